"""The generated dataset: the generator, the dataset on disk, the lab's generator and its benchmark."""
