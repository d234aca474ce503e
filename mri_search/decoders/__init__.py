"""Task decoders on the frozen image encoder: segmentation of structures and lesion localisation.

Modules, each with one job: ``structures`` (which tissues a decoder segments), ``labels`` (label table and label
files, checked against their series), ``data`` (annotated series of an archive, brought onto the model's grid),
``nets`` (UNETR and heatmap heads from MONAI's blocks, MONAI's UNet baseline), ``train`` (the fitting loop),
``infer`` (predictions back on a series' own grid), ``metrics`` (Dice, lesion detection and box IoU),
``artifact`` (the decoder folder), ``run`` and ``predict`` (what the CLI commands do).
"""
