"""Abdominal organs of the shared torso: liver (Couinaud segments marked), biliary tree, pancreas, spleen,
kidneys, adrenals, GI tract, aorta and IVC (trunk frame, see ``_trunk_common``). ``_torso.paint_trunk`` paints
them for every trunk region; abdomen.py opens its window on them and plants the findings.
"""

from __future__ import annotations

import numpy as np

from ..physics.phantom import Canvas, rotation
from ..physics.tissues import label_of
from . import _trunk_common as tc

# Couinaud segment centres of a reference liver in the trunk frame (mm) [R: segment anatomy, simplified planes:
# middle hepatic vein / Cantlie line, right hepatic vein, falciform ligament, portal bifurcation plane]
SEGMENTS = {"II": (25, -22, -255), "III": (25, -52, -278), "IVa": (-18, -38, -250), "IVb": (-22, -62, -300),
            "V": (-62, -52, -320), "VI": (-105, 10, -335), "VII": (-100, 35, -265), "VIII": (-62, -8, -248)}



def _gut(canvas: Canvas, pts, radius, wall: float, air: bool = False) -> None:
    """Hollow viscus: bowel_wall tube, fluid content, gas in its anterior (non-dependent, supine) part."""
    canvas.tube("bowel_wall", pts, radius, restrict=("fat",))
    canvas.tube("bowel_content", pts, np.maximum(np.asarray(radius, float) - wall, 1.0), restrict=("bowel_wall",))
    if air:  # gas floats to the anterior (non-dependent) third of the lumen in a supine patient
        p = np.asarray(pts, float)
        r = np.broadcast_to(np.asarray(radius, float), (len(p),))
        lo, hi = (p - r[:, None]).min(0), (p + r[:, None]).max(0)
        level = lo[1] + 0.45 * r.max()
        c = (lo + hi) / 2
        c[1] = (lo[1] + level) / 2
        canvas.box("air", c, ((hi - lo)[0] / 2, (level - lo[1]) / 2, (hi - lo)[2] / 2), restrict=("bowel_content",))


def paint_viscera(canvas: Canvas, body: tc.Body) -> None:
    """Abdominal organs, GI tract and the descending/abdominal aorta and IVC, into the body cavity's fat."""
    s = body.scale
    rng = body._rng
    P = lambda x, y, z: np.array([x, y, z], float) * s  # noqa: E731 - reference mm -> patient mm
    L = body.levels
    front = lambda n: L[n].point(0, -L[n].depth / 2, 0)  # noqa: E731 - anterior surface of a vertebral body
    _kidneys(canvas, body)  # retroperitoneal organs first: the intraperitoneal ones are painted around them
    jl = body.j("liver", 6.0)
    lf = rng.uniform(0.92, 1.08)  # liver size variation beyond body scale [R: volume CV ~15%]
    # liver: right lobe, left lobe across the midline anteriorly, caudate by the IVC
    canvas.ellipsoid("liver", P(-62, 2, -288) + jl, np.array([78, 82, 78]) * s * lf, restrict=("fat",))
    canvas.ellipsoid("liver", P(12, -38, -262) + jl, np.array([58, 36, 32]) * s * lf,
                     rot=rotation(rx_deg=-15), restrict=("fat",))
    canvas.ellipsoid("liver", P(-12, 8, -280) + jl, np.array([18, 20, 30]) * s, restrict=("fat",))
    body.geo["liver_offset"] = jl
    for name, c in SEGMENTS.items():
        canvas.mark(f"liver_segment_{name}", _snap(canvas, P(*c) + jl, "liver"))
    canvas.ellipsoid("bile", P(-42, -58, -335) + jl, np.array([13, 14, 38]) * s * rng.uniform(0.8, 1.15),
                     rot=rotation(rx_deg=35, rz_deg=-15), restrict=("liver", "fat"))
    js = body.j("spleen", 5.0)
    canvas.ellipsoid("spleen", P(90, 38, -282) + js, np.array([28, 50, 55]) * s * rng.uniform(0.85, 1.15),
                     rot=rotation(rz_deg=-40), restrict=("fat",))
    # stomach (J-shape, gas in the anterior fundus/body), duodenal C-loop, pancreas in the loop
    st = [P(48, 18, -245), P(62, -12, -290), P(38, -48, -338), P(2, -58, -350), P(-24, -42, -345)]
    _gut(canvas, st, np.array([38, 36, 26, 18, 12]) * s, 4 * s, air=True)
    du = [P(-24, -42, -345), P(-48, -10, -352), P(-46, 0, -400), P(-12, front("L3")[1] / s - 12, -420),
          P(20, -8, -398)]
    _gut(canvas, du, 11 * s, 3 * s)
    l1 = front("L1")
    canvas.tube("pancreas", [P(-32, 0, -360) + [0, l1[1] - 22 * s, 0], P(-5, 0, -345) + [0, l1[1] - 30 * s, 0],
                             P(35, 0, -330) + [0, l1[1] - 22 * s, 0], P(78, 28, -302)],
                [13 * s, 10 * s, 9 * s, 8 * s], restrict=("fat",))
    canvas.tube("vein", [P(78, 32, -300), P(35, 0, -334) + [0, l1[1] - 12 * s, 0],
                         P(-5, 0, -348) + [0, l1[1] - 20 * s, 0]], 4 * s, restrict=("fat", "pancreas"))
    # colon frame and small-bowel loops (more mesenteric fat pushes them apart in heavier patients)
    colon = [P(-80, -15, -540), P(-92, 15, -470), P(-88, -5, -370), P(-50, -72, -395), P(50, -70, -390),
             P(92, 15, -315), P(98, 25, -470), P(70, -10, -560)]
    _gut(canvas, colon, 22 * s, 3 * s, air=True)
    for k in range(12):
        p0 = P(rng.uniform(-70, 70), rng.uniform(-75, -10), rng.uniform(-560, -400))
        loop = [p0]
        d = rng.normal(size=3)
        for _ in range(5):
            d = d + rng.normal(0, 0.8, 3)
            d /= np.linalg.norm(d)
            loop.append(loop[-1] + d * 28 * s)
        _gut(canvas, loop, 11 * s, 2.5 * s)
    _vessels(canvas, body)


def _snap(canvas: Canvas, p: np.ndarray, tissue: str, reach: float = 40.0) -> np.ndarray:
    """The voxel centre of ``tissue`` nearest to ``p`` within ``reach`` mm (``p`` itself if none)."""
    lo = np.maximum(np.floor((p - reach - canvas.origin) / canvas.spacing).astype(int), 0)
    hi = np.minimum(np.ceil((p + reach - canvas.origin) / canvas.spacing).astype(int) + 1, canvas.labels.shape)
    if np.any(hi <= lo):
        return p
    idx = np.argwhere(canvas.labels[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] == label_of(tissue))
    if not len(idx):
        return p
    pts = canvas.origin + (idx + lo) * canvas.spacing
    return pts[np.argmin(((pts - p) ** 2).sum(1))]


def _kidneys(canvas: Canvas, body: tc.Body) -> None:
    """Kidneys (cortex, medullary pyramids, sinus fat), left at T12-L2, right ~15 mm lower [R]."""
    s = body.scale
    rng = body._rng
    L = body.levels
    for sx in (-1, 1):
        z = L["L1"].center[2] + (-30 * s if sx < 0 else -15 * s)
        c = np.array([sx * 76 * s, float(body.spine_y(z)) + 20 * s, z]) + body.j(f"kidney{sx}", 5.0)
        rot = rotation(ry_deg=sx * 14, rz_deg=sx * 30)  # upper pole medial and posterior; hilum anteromedial
        f = rng.uniform(0.9, 1.1)
        r = np.array([27, 22, 56]) * s * f
        canvas.ellipsoid("kidney_cortex", c, r, rot=rot, restrict=("fat",))
        for t in np.linspace(-0.62, 0.62, 5):
            off = rot @ np.array([r[0] * 0.2, 0, t * r[2]])
            canvas.ellipsoid("kidney_medulla", c + off, (8 * s * f, 9 * s * f, 11 * s * f), rot=rot,
                             restrict=("kidney_cortex",))
        canvas.ellipsoid("fat", c + rot @ np.array([-sx * r[0] * 0.55, 0, 0]), (10 * s, 9 * s, 26 * s), rot=rot,
                         restrict=("kidney_cortex", "kidney_medulla"))
        body.geo[f"kidney{sx}"] = (c, rot, r)
        canvas.mark("right_kidney" if sx < 0 else "left_kidney", c)


def _vessels(canvas: Canvas, body: tc.Body) -> None:
    """Descending thoracic + abdominal aorta to the iliacs, IVC, renal vessels, portal and hepatic veins."""
    s = body.scale
    L = body.levels
    P = lambda x, y, z: np.array([x, y, z], float) * s  # noqa: E731
    jl = body.geo.get("liver_offset", np.zeros(3))
    aorta = [body.geo["arch_end"]] if "arch_end" in body.geo else []
    for n, dx in (("T6", 24), ("T9", 18), ("T12", 8), ("L1", 6), ("L2", 8), ("L3", 9), ("L4", 6)):
        lv = L[n]
        aorta.append(lv.point(dx * s, -lv.depth / 2 - (4 if n.startswith("T") else 12) * s, 0))
    canvas.tube("artery", aorta, np.linspace(12, 9.5, len(aorta)) * s)
    bif = aorta[-1]
    l5 = L["L5"]
    for sx in (-1, 1):
        canvas.tube("artery", [bif, l5.point(sx * 38 * s, -l5.depth / 2 - 8 * s, -30 * s),
                               l5.point(sx * 60 * s, -l5.depth / 2 - 25 * s, -110 * s)], 6 * s,
                    restrict=("fat", "muscle", "bowel_wall", "bowel_content"))
        c, rot, r = body.geo[f"kidney{sx}"]
        hil = c + rot @ np.array([-sx * r[0] * 0.9, 0, 0])
        src = L["L1"].point(sx * 4 * s, -L["L1"].depth / 2 - 12 * s, -10 * s)
        canvas.tube("artery", [src, hil], 3 * s, restrict=("fat",))
        canvas.tube("vein", [src + P(-25, -8, 0) * [1, 1, 0], hil + P(0, -6, 0)], 4.5 * s, restrict=("fat",))
    ivc = [P(-22, 5, -205) + [0, 0, 0], P(-24, 0, -260) + [0, L["T12"].center[1] - 30 * s, 0]]
    for n in ("L1", "L2", "L3", "L4"):
        lv = L[n]
        ivc.append(lv.point(-25 * s, -lv.depth / 2 - 10 * s, 0))
    canvas.tube("vein", ivc, 11 * s, restrict=("fat", "liver", "muscle", "tendon", "bowel_wall"))
    for sx in (-1, 1):
        canvas.tube("vein", [ivc[-1], l5.point(sx * 45 * s, -l5.depth / 2 - 2 * s, -70 * s)], 7 * s,
                    restrict=("fat", "muscle", "bowel_wall", "bowel_content"))
    # portal vein from the confluence behind the pancreatic neck to the hilum, right and left branches
    conf = L["L1"].point(-8 * s, -L["L1"].depth / 2 - 32 * s, -8 * s)
    hilum = P(-38, -12, -298) + jl
    canvas.tube("vein", [conf, hilum], 7 * s, restrict=("fat", "liver", "pancreas"))
    canvas.tube("vein", [hilum, P(-85, 8, -292) + jl], 5 * s, restrict=("liver",))
    canvas.tube("vein", [hilum, P(-5, -30, -282) + jl, P(20, -40, -270) + jl], 4.5 * s, restrict=("liver",))
    top = P(-20, 8, -228)
    for end in (P(-105, 18, -262), P(-45, -45, -285), P(18, -28, -255)):  # right, middle, left hepatic veins
        canvas.tube("vein", [top, end + jl], [6 * s, 3 * s], restrict=("liver",))
