"""The β-VAE model library: pure Keras 3 (TensorFlow backend), no Kedro, no MLflow.

A notebook can use it on its own::

    from image_vae.vae import VAE, fit_vae
    model = VAE(input_shape=(32, 32, 1), latent_dim=2)
    fit_vae(model, x_train, x_test, epochs=7, batch_size=100,
            learning_rate=4e-3, schedule="cosine", ema_momentum=0.98,
            adam_beta_2=0.99, seed=42)
    z_mean, z_log_var = model.encode(x_test)

Importing it registers the model's two Keras classes (``VAE`` and its
``Sampling`` layer), so ``keras.saving.load_model`` works in safe mode without
``custom_objects``; everything else in a saved model is a stock Keras layer.
"""

from image_vae.vae.latent import (
    FASHION_MNIST_CLASSES,
    Projection2D,
    class_direction,
    morph_path,
    resolve_class,
    straight_path,
)
from image_vae.vae.losses import reconstruction_loss
from image_vae.vae.model import VAE
from image_vae.vae.networks import (
    Sampling,
    build_decoder,
    build_encoder,
    check_input_shape,
)
from image_vae.vae.posterior import DiagonalGaussian
from image_vae.vae.preprocessing import preprocess_images
from image_vae.vae.training import NonFiniteLossError, fit_vae, make_dataset

__all__ = [
    "FASHION_MNIST_CLASSES",
    "VAE",
    "DiagonalGaussian",
    "NonFiniteLossError",
    "Projection2D",
    "Sampling",
    "build_decoder",
    "build_encoder",
    "check_input_shape",
    "class_direction",
    "fit_vae",
    "make_dataset",
    "morph_path",
    "preprocess_images",
    "reconstruction_loss",
    "resolve_class",
    "straight_path",
]
