"""The physics of the generator: tissue relaxation table (``tissues``), sequence signal equations and timing
(``sequences``), the voxel canvas a region paints its anatomy on (``phantom``) and the acquisition that turns a
painted phantom into a series (``acquisition``). Nothing here knows about body regions, protocols or reports."""
