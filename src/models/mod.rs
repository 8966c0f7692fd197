//! Learner networks, one file per model.
