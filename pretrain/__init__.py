"""Two-stage pretraining (stage 1 vision SSL, stage 2 report alignment); builds on mri_search only."""
