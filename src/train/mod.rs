//! Training: losses, optimizers and training loops.
