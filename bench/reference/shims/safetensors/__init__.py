"""Stand-in package: moshi's loaders import safetensors.torch.load_file."""
