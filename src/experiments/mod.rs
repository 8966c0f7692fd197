//! Experiments: one module per paper figure (config in, typed result out).
