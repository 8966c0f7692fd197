//! Data: loaders for real datasets (MNIST IDX, CIFAR-10 binary), `.npy`
//! exchange with numpy, label operations and synthetic concept classes.
