"""image-vae"""

__version__ = "0.1"
