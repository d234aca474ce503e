"""The whole torso, neck base to pelvis: body wall, back, thoracic and abdominal organs, vertebral column.

One entry point (``paint_trunk``) for the trunk regions (spine, chest, abdomen): each paints the same torso into
its own canvas window. The pieces live below it (``_trunk_common``: habitus, wall, column; ``_thorax``;
``_viscera``), so nothing below imports this module.
"""

from __future__ import annotations

from ..physics.phantom import Canvas
from ._thorax import paint_thorax
from ._trunk_common import Body, Level, paint_back, paint_column, paint_wall, trunk_levels
from ._viscera import paint_viscera


def paint_trunk(canvas: Canvas, body: Body, degenerate: dict[str, float] | None = None,
                disc_scale: dict[str, float] | None = None, conus: str = "L1") -> dict[str, Level]:
    """Paint the whole torso (neck base to pelvis) into whatever window ``canvas`` covers.

    Args:
        canvas: the canvas (its extent decides what is visible).
        body: habitus from ``draw_body``.
        degenerate: level above a desiccated disc -> nucleus fraction kept.
        disc_scale: level above a disc -> height factor (degenerated discs lose height).
        conus: level whose lower endplate the conus medullaris reaches.

    Returns:
        The painted vertebral levels (names -> ``Level``), also stored in ``body.levels``.
    """

    levels = trunk_levels(body, disc_scale)
    body.levels = levels
    paint_wall(canvas, body)
    paint_back(canvas, body, levels)
    paint_thorax(canvas, body)
    paint_viscera(canvas, body)
    paint_column(canvas, body, levels, conus, degenerate)
    return levels
