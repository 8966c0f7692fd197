//! Kernels: closed-form infinite-width kernels and empirical Gram matrices.
