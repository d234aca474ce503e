"""Thoracic organs of the shared torso: lungs, diaphragm, mediastinum, heart, great vessels, airway, ribs,
sternum, breasts (trunk frame, see ``_trunk_common``). ``_torso.paint_trunk`` paints them for every trunk
region; chest.py opens its windows on them and plants the findings.
"""

from __future__ import annotations

import numpy as np

from ..physics.phantom import Canvas, rotation
from . import _trunk_common as tc


def heart_frame(body: tc.Body) -> dict:
    """Heart centre and axes: long axis base->apex points left, anterior and down [R]; septum faces the RV."""
    s = body.scale
    j = body.j("heart", 5.0)
    u = np.array([0.62, -0.5, -0.55]) + body._rng.normal(0, 0.05, 3)
    u /= np.linalg.norm(u)
    rot = tc.frame(u, np.array([0.0, 0.0, -1.0]))  # columns: inferior, e2, long axis
    inf, e2 = rot[:, 0], rot[:, 1]
    sep = -e2 if e2[0] > 0 else e2  # septum / RV side is to the patient's right
    c_lv = np.array([35.0, -50.0, -190.0]) * s + j
    return dict(c_lv=c_lv, u=u, rot=rot, inf=inf, sep=sep, lv_out=np.array([34, 34, 52]) * s,
                lv_cav=np.array([24, 24, 44]) * s, sac=np.array([46, 50, 66]) * s,
                sac_c=c_lv - 18 * s * u + 10 * s * sep)


def paint_thorax(canvas: Canvas, body: tc.Body) -> None:
    """Lungs, diaphragm, mediastinum, heart, great vessels, airway, ribs, sternum, breasts (trunk frame)."""
    s = body.scale
    lv = body.levels
    # lungs: per-level cross-sections from the apex (medial, narrow) to the wide bases [R]
    rows = np.array([(20, 4, 4, 10, 40), (0, 30, 35, 12, 52), (-40, 55, 62, 8, 68), (-100, 68, 88, 5, 80),
                     (-180, 75, 98, 8, 86), (-260, 76, 100, 12, 88), (-330, 70, 95, 20, 88)], float)
    cav = tc.cavity_keys(body)
    for sx in (-1, 1):
        k = rows * s
        k[:, 0] += body.j(f"lung{sx}", 4.0)[2]
        # keep each lung inside the rib cage: its lateral and AP extent is capped by the cavity outline
        ca, cb, cy = (np.interp(k[:, 0], cav[:, 0], cav[:, i]) for i in (1, 2, 3))
        lateral, medial = np.minimum(k[:, 4] + k[:, 1], ca - 1), k[:, 4] - k[:, 1]
        k[:, 1], k[:, 4] = np.maximum((lateral - medial) / 2, 1.0), sx * (lateral + medial) / 2
        k[:, 2] = np.minimum(k[:, 2], cb - 1)
        k[:, 3] = np.clip(k[:, 3], cy - cb + k[:, 2], cy + cb - k[:, 2])
        tc.paint_prism(canvas, "lung", k, restrict=("fat",), bounded=True)
    # diaphragm domes: the right dome sits higher (liver) [R]; posterior recesses run lower than the domes
    for sx, top in ((-1, -215), (1, -230)):
        c = np.array([sx * 55, -25, top - 165], float) * s + body.j(f"dome{sx}", 6.0) * [0, 0, 1]
        tc.axis_ellipsoid(canvas, "fat", c, np.array([120, 130, 160]) * s, restrict=("lung",))
        tc.axis_ellipsoid(canvas, "muscle", c, np.array([125, 135, 165]) * s, restrict=("lung",))
    tc.axis_ellipsoid(canvas, "fat", np.array([0, -28, -135]) * s, np.array([36, 70, 140]) * s, restrict=("lung",))
    _airway(canvas, body)
    _heart(canvas, body)
    _great_vessels(canvas, body)
    _ribs(canvas, body)
    lean = tc.lean_keys(body)
    for sx in (-1, 1):  # pectoralis major bulk under the subcutaneous fat
        yf = np.interp(-80 * s, lean[:, 0], lean[:, 3] - lean[:, 2])
        canvas.ellipsoid("muscle", (sx * 68 * s, yf - 3 * s, -80 * s), (62 * s, 9 * s, 55 * s), restrict=("fat",))
    if body.sex == "F":
        _breasts(canvas, body)
    for sx in (-1, 1):  # scapula over the posterior upper ribs
        c = np.array([sx * 95, 0, -95]) * s + [0, lv["T5"].center[1] + 60 * s, 0]
        rot = rotation(rz_deg=sx * 35)
        canvas.ellipsoid("cortical_bone", c, (48 * s, 5 * s, 72 * s), rot=rot, restrict=("muscle", "fat"))
        canvas.ellipsoid("marrow_red", c, (45 * s, 2.6 * s, 69 * s), rot=rot, restrict=("cortical_bone",))


def _airway(canvas: Canvas, body: tc.Body) -> None:
    """Trachea to the carina (T4-T5), main and lobar bronchi, oesophagus, thyroid lobes."""
    s = body.scale
    zs = np.array([200, 100, 40, 0, -50, -95]) * s
    tr = np.stack([np.zeros_like(zs), body.spine_y(zs) - 36 * s, zs], axis=1)
    car = tr[-1]
    canvas.tube("laryngeal_cartilage", tr, 10 * s)
    canvas.tube("air", tr, 7.8 * s)
    for sx, pts in ((-1, [(-25, 8, -115), (-45, 15, -128), (-65, 5, -100), (-78, 35, -200), (-70, -35, -165)]),
                    (1, [(30, 8, -122), (50, 18, -138), (66, -12, -108), (80, 38, -205), (70, -30, -170)])):
        hil = [np.array([p[0] * s, car[1] + p[1] * s, p[2] * s]) for p in pts[:2]]
        canvas.tube("laryngeal_cartilage", [car] + hil, 8 * s)
        canvas.tube("air", [car] + hil, 5.8 * s)
        for p in pts[2:]:
            end = np.array([p[0] * s, car[1] + p[1] * s, p[2] * s])
            canvas.tube("air", [hil[-1], end], [4.5 * s, 2.5 * s], restrict=("lung", "fat", "laryngeal_cartilage"))
    oz = np.array([200, 0, -100, -200, -245]) * s
    oes = np.stack([np.array([0, 4, 8, 14, 40]) * s, body.spine_y(oz) - 18 * s, oz], axis=1)
    oes[-1, 1] = -10 * s
    canvas.tube("bowel_wall", oes, 7.5 * s, restrict=("fat", "muscle", "lung"))
    for sx in (-1, 1):
        canvas.ellipsoid("thyroid", [sx * 19 * s, tr[2, 1] + 2 * s, 52 * s], (9 * s, 10 * s, 22 * s),
                         restrict=("muscle", "fat"))
    canvas.ellipsoid("thyroid", [0, tr[2, 1] - 11 * s, 42 * s], (14 * s, 4 * s, 6 * s), restrict=("muscle", "fat"))


def _heart(canvas: Canvas, body: tc.Body) -> None:
    """Pericardial sac with epicardial fat, RV, LV (10 mm wall), atria; blood: left 'artery', right 'vein'."""
    s = body.scale
    h = body.geo.get("heart") or heart_frame(body)
    body.geo["heart"] = h
    rot, u, sep, c_lv = h["rot"], h["u"], h["sep"], h["c_lv"]
    soft = ("lung", "fat", "bowel_wall")
    canvas.ellipsoid("tendon", h["sac_c"], h["sac"] + 2 * s, rot=rot, restrict=soft)  # fibrous pericardium
    canvas.ellipsoid("fat", h["sac_c"], h["sac"], rot=rot, restrict=soft + ("tendon",))
    rv_c = c_lv + 27 * s * sep - 10 * s * u
    canvas.ellipsoid("myocardium", rv_c, np.array([24, 31, 50]) * s, rot=rot, restrict=("fat",))
    canvas.ellipsoid("vein", rv_c, np.array([20, 27, 46]) * s, rot=rot, restrict=("myocardium",))
    la = c_lv - 52 * s * u + np.array([0, 22, 12]) * s
    ra = c_lv - 40 * s * u + 36 * s * sep + np.array([0, 12, 0]) * s
    for c, r, blood in ((la, (30, 20, 22), "artery"), (ra, (25, 23, 30), "vein")):
        canvas.ellipsoid("myocardium", c, np.array(r) * s + 2 * s, restrict=("fat", "tendon", "lung", "bowel_wall"))
        canvas.ellipsoid(blood, c, np.array(r) * s, restrict=("myocardium",))
    canvas.ellipsoid("myocardium", c_lv, h["lv_out"], rot=rot)
    canvas.ellipsoid("artery", c_lv - 3 * s * u, h["lv_cav"], rot=rot, restrict=("myocardium",))
    # aortic root leaves the LV outflow tract between the RV outflow and the atria
    root = c_lv - 36 * s * u + 10 * s * sep
    body.geo["aortic_root"] = root
    canvas.tube("artery", [c_lv - 20 * s * u + 5 * s * sep, root], 12 * s)
    canvas.mark("heart_center", c_lv - 10 * s * u)


def _great_vessels(canvas: Canvas, body: tc.Body) -> None:
    """Ascending aorta and arch, arch branches, pulmonary trunk and arteries, SVC, pulmonary veins, neck vessels."""
    s = body.scale
    P = lambda x, y, z: np.array([x, y, z], float) * s  # noqa: E731 - reference mm -> patient mm
    root = body.geo["aortic_root"]
    t4 = body.levels["T4"]
    arch_end = t4.point(22 * s, 0, -10 * s)
    asc = [root, P(-10, -42, -120), P(-6, -35, -80), P(6, -15, -65), arch_end]
    canvas.tube("artery", asc, [14 * s, 15 * s, 14 * s, 13 * s, 12 * s])
    body.geo["arch_end"] = arch_end
    for a, b in ((P(-4, -30, -68), P(-28, -15, 200)), (P(5, -22, -66), P(22, -12, 200)),
                 (P(14, -8, -68), P(95, 5, -20))):  # brachiocephalic->R CCA, L CCA, L subclavian
        canvas.tube("artery", [a, (a + b) / 2 + P(0, 0, 10), b], 5.5 * s, restrict=("fat", "muscle", "lung"))
    h = body.geo["heart"]
    rvot = h["c_lv"] - 30 * s * h["u"] + 10 * s * h["sep"] + P(8, -22, 10)
    bif = P(6, -18, -105)
    canvas.tube("vein", [rvot, bif], 13 * s)
    canvas.tube("vein", [bif, P(-20, -8, -110), P(-55, 0, -115)], 10 * s, restrict=("fat", "lung", "tendon"))
    canvas.tube("vein", [bif, P(35, 0, -100), P(58, 8, -108)], 10 * s, restrict=("fat", "lung", "tendon"))
    ra_top = h["c_lv"] - 40 * s * h["u"] + 36 * s * h["sep"] + P(0, 12, 25)
    canvas.tube("vein", [P(-30, -22, 10), P(-32, -24, -100), ra_top], 9.5 * s)  # SVC
    canvas.tube("vein", [P(40, -38, 10), P(0, -42, -40), P(-30, -24, -50)], 6.5 * s, restrict=("fat", "muscle"))
    for sx in (-1, 1):
        canvas.tube("vein", [P(sx * 42, -2, 200), P(sx * 38, -20, 10)], 7 * s, restrict=("fat", "muscle"))
        la = h["c_lv"] - 52 * s * h["u"] + P(0, 22, 12)
        for dz in (12, -12):
            canvas.tube("artery", [la, la + P(sx * 55, 10, dz)], 4.5 * s, restrict=("fat", "lung"))


def _ribs(canvas: Canvas, body: tc.Body) -> None:
    """Twelve rib pairs (cortical tube + marrow) from the vertebrae round to the costal cartilages; sternum."""
    s = body.scale
    cav = tc.cavity_keys(body)
    for i in range(1, 13):
        lvl = body.levels[f"T{i}"]
        z0 = lvl.center[2]
        a = np.interp(z0 - 20 * s, cav[:, 0], cav[:, 1]) + 5 * s
        b = np.interp(z0 - 20 * s, cav[:, 0], cav[:, 2]) + 5 * s
        yc = np.interp(z0 - 20 * s, cav[:, 0], cav[:, 3])
        end = np.pi * (0.86 if i <= 7 else 0.78 if i <= 10 else 0.55 if i == 11 else 0.42)
        drop = (25 if i == 1 else 55) * s
        th = np.linspace(0.22, end, 8)
        for sx in (-1, 1):
            pts = np.stack([sx * a * np.sin(th), yc + b * np.cos(th), z0 - drop * (1 - np.cos(th)) / 2], axis=1)
            head = lvl.point(sx * lvl.width * 0.45, lvl.depth * 0.35, 0)
            pts = np.vstack([head, pts])
            canvas.tube("cortical_bone", pts, 4.4 * s)
            canvas.tube("marrow_red", pts, 2.4 * s, restrict=("cortical_bone",))
            if i <= 10:  # costal cartilage to the sternum (1-7) or the costal margin (8-10)
                tip = np.array([sx * (18 + 6 * max(0, i - 7)) * s, yc - b + 4 * s, pts[-1, 2] - 10 * s])
                canvas.tube("cartilage", [pts[-1], tip], 4.0 * s, restrict=("muscle", "fat", "lung"))
    # sternum: manubrium, body, xiphoid along the anterior chest wall
    for z, hw, hz in ((-45, 26, 22), (-85, 16, 18), (-120, 16, 18), (-155, 17, 18), (-190, 16, 18), (-218, 9, 10)):
        zz = z * s
        yf = np.interp(zz, cav[:, 0], cav[:, 3] - cav[:, 2]) - 2 * s
        canvas.box("cortical_bone", (0, yf, zz), (hw * s, 6 * s, hz * s))
        canvas.box("marrow_red", (0, yf, zz), ((hw - 2) * s, 4 * s, (hz - 1.5) * s), restrict=("cortical_bone",))


def _breasts(canvas: Canvas, body: tc.Body) -> None:
    """Supine breasts: skin-covered fat mounds with fibroglandular tissue, on the pectoral muscle."""
    s = body.scale
    rng = body._rng
    lean = tc.lean_keys(body)
    f = rng.uniform(0.7, 1.3) * (1 + 0.4 * body.visceral)
    fgt = rng.uniform(0.15, 0.6) * (1.2 - 0.006 * body.age)  # glandular fraction falls with age [R]
    for sx in (-1, 1):
        z = -150 * s + body.j(f"breast{sx}", 4)[2]
        yf = np.interp(z, lean[:, 0], lean[:, 3] - lean[:, 2]) - body.sc_fat
        c = np.array([sx * 85 * s, yf, z])
        r = np.array([62 * s, 36 * s * f, 58 * s])
        canvas.ellipsoid("skin", c, r + 2, restrict=("background",))
        canvas.ellipsoid("fat", c, r, restrict=("background", "skin"))
        canvas.blob("breast_fgt", c + [sx * 6 * s, -r[1] * 0.35, 6 * s], max(r[0] * fgt, 6.0), 0.45,
                    restrict=("fat",), elongation=(1.0, 0.6, 0.9))
