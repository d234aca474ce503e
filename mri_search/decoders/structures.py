"""What a segmentation decoder segments: named sets of structures, each a group of generator tissue labels.

The generator's label table (``label_table.csv``, ``mri_search.synth.physics.tissues``) has about 75 tissues; a decoder
segments a few structures of one body region, each the union of one or more tissues (the kidney is cortex +
medulla, bone is cortex + marrow). ``lesion`` stands for every lesion tissue (labels >= 60) not named by another
structure of the set. Voxels of tissues outside the set are background (class 0).

| set | default regions | structures |
|---|---|---|
| ``body`` | all | fat, muscle, bone, fluid, brain, lesion |
| ``brain`` | brain | csf, white_matter, grey_matter, lesion |
| ``head_neck`` | head_neck | tongue, parotid, submandibular, thyroid, lymph_node, lesion |
| ``cardiac`` | chest | myocardium (with scar), blood (arteries, veins, cardiac chambers), lung |
| ``abdomen`` | abdomen | liver, spleen, kidney, pancreas, lesion |
| ``prostate`` | pelvis | prostate_pz, prostate_tz, bladder (urine), lesion |
| ``knee`` | knee | bone, cartilage, meniscus, muscle, fluid |
| ``spine`` | spine | vertebra, disc, cord, csf |

A comma-separated list makes a custom set: each item a tissue name (``liver``), ``lesion``, or a named group of
tissues (``kidney=kidney_cortex+kidney_medulla``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..synth.physics.tissues import LESION_LABEL_MIN

LESION = "lesion"  # pseudo-tissue: every lesion label not named by another structure of the set
_BONE = ("cortical_bone", "marrow_yellow", "marrow_red")

# set -> (default body regions, {structure: tissue names})
STRUCTURE_SETS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "body": ((), {"fat": ("fat", "ligament_fat_pad"), "muscle": ("muscle", "tongue"), "bone": _BONE,
                  "fluid": ("csf", "joint_fluid", "urine", "bile", "vitreous"),
                  "brain": ("white_matter", "grey_matter"), "lesion": (LESION,)}),
    "brain": (("brain",), {"csf": ("csf",), "white_matter": ("white_matter",), "grey_matter": ("grey_matter",),
                           "lesion": (LESION,)}),
    "head_neck": (("head_neck",), {"tongue": ("tongue",), "parotid": ("parotid",),
                                   "submandibular": ("submandibular",), "thyroid": ("thyroid",),
                                   "lymph_node": ("lymph_node",), "lesion": (LESION,)}),
    "cardiac": (("chest",), {"myocardium": ("myocardium", "myocardial_scar"), "blood": ("artery", "vein"),
                             "lung": ("lung",)}),
    "abdomen": (("abdomen",), {"liver": ("liver",), "spleen": ("spleen",),
                               "kidney": ("kidney_cortex", "kidney_medulla"), "pancreas": ("pancreas",),
                               "lesion": (LESION,)}),
    "prostate": (("pelvis",), {"prostate_pz": ("prostate_pz",), "prostate_tz": ("prostate_tz",),
                               "bladder": ("urine",), "lesion": (LESION,)}),
    "knee": (("knee",), {"bone": _BONE, "cartilage": ("cartilage",), "meniscus": ("meniscus",),
                         "muscle": ("muscle",), "fluid": ("joint_fluid",)}),
    "spine": (("spine",), {"vertebra": _BONE, "disc": ("disc_nucleus", "disc_annulus"), "cord": ("spinal_cord",),
                           "csf": ("csf",)}),
}


@dataclass(frozen=True)
class StructureSet:
    """Classes of a segmentation decoder: class ``i + 1`` is ``names[i]``, made of the label values
    ``labels[i]``; class 0 is background. Stored in the decoder folder with explicit label values, so a
    decoder never depends on the label table it was trained with."""

    name: str  # set name, or "custom"
    names: tuple[str, ...]  # structure names, in class order (background excluded)
    labels: tuple[tuple[int, ...], ...]  # label values of each structure
    regions: tuple[str, ...] = ()  # body regions the set is meant for (empty: any)

    def __post_init__(self) -> None:
        if len(self.names) != len(self.labels) or not self.names:
            raise ValueError("a structure set needs one label group per structure and at least one structure")
        seen: set[int] = set()
        for name, group in zip(self.names, self.labels):
            if not group:
                raise ValueError(f"structure {name!r} has no labels")
            if seen & set(group):
                raise ValueError(f"structure {name!r} shares labels {sorted(seen & set(group))} with another")
            seen |= set(group)

    @property
    def num_classes(self) -> int:
        """Output classes, background included."""
        return len(self.names) + 1

    def lookup(self) -> np.ndarray:
        """``[256]`` uint8: tissue label -> class index (0 for every label outside the set)."""
        out = np.zeros(256, np.uint8)
        for cls, group in enumerate(self.labels, start=1):
            out[list(group)] = cls
        return out

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"name": self.name, "names": list(self.names), "labels": [list(g) for g in self.labels],
                "regions": list(self.regions)}

    @classmethod
    def from_dict(cls, d: dict) -> "StructureSet":
        """Inverse of ``to_dict``."""
        try:
            return cls(name=str(d["name"]), names=tuple(d["names"]), labels=tuple(tuple(int(v) for v in g)
                                                                              for g in d["labels"]),
                       regions=tuple(d.get("regions", ())))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"structure set: malformed entry ({exc})") from None


def resolve_structures(spec: str, table: dict[str, int]) -> StructureSet:
    """The structure set named ``spec`` (see the module table), or the custom set of a comma list.

    Args:
        spec: a set name or ``"tissue,name=tissue+tissue,..."`` (``lesion`` allowed).
        table: tissue name -> label value (``labels.read_label_table``).

    Raises:
        ValueError: an unknown set or tissue name (the known ones are listed).
    """
    if spec in STRUCTURE_SETS:
        regions, groups = STRUCTURE_SETS[spec]
        name = spec
    else:
        items = [s.strip() for s in spec.split(",") if s.strip()]
        if not items or len(items) == 1 and "=" not in items[0] and items[0] not in table and items[0] != LESION:
            raise ValueError(f"unknown structure set {spec!r}; choose one of {', '.join(STRUCTURE_SETS)} or give "
                             "comma-separated tissue names (or name=tissue+tissue groups) from the label table")
        groups = {}
        for item in items:
            label, _, tissues = item.partition("=")
            groups[label.strip()] = tuple(t.strip() for t in (tissues or label).split("+") if t.strip())
        regions, name = (), "custom"
    lesion_labels = {v for v in table.values() if v >= LESION_LABEL_MIN}
    named = {table[t] for group in groups.values() for t in group if t != LESION and t in table}
    out_names, out_labels = [], []
    for structure, tissues in groups.items():
        values: set[int] = set()
        for t in tissues:
            if t == LESION:
                values |= lesion_labels - named
            elif t in table:
                values.add(table[t])
            else:
                raise ValueError(f"structure {structure!r}: tissue {t!r} is not in the label table; known tissues: "
                                 f"{', '.join(sorted(table))}")
        out_names.append(structure)
        out_labels.append(tuple(sorted(values)))
    return StructureSet(name=name, names=tuple(out_names), labels=tuple(out_labels), regions=tuple(regions))
