"""DCCS: deep image clustering with a category-style representation.

Zhao, Lu, Ma, Zhang, Zheng, "Deep Image Clustering with Category-Style Representation",
ECCV 2020, arXiv:2007.10004. Authors' code: https://github.com/sKamiJ/DCCS.
"""

from __future__ import annotations

import inspect
from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from torch import Tensor, nn

from . import augment as _augment
from ._base import (
    ENCODER,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    POSITIVE_REAL,
    WEIGHT,
    BaseDeepClusterer,
)
from ._data import InputSpec
from ._net import ClusterNet
from .callbacks import CollapseGuard
from .losses import (
    categorical_kl,
    gradient_penalty,
    jsd_mi_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from .nn import CategoryStyleEncoder, dccs_trunk, latent_mlp, mlp
from .nn.category_style import RESIDUAL_FROM

__all__ = ["DCCS"]


def _category_style(logits: Tensor, zs: Tensor) -> Tensor:
    """The latent ``Z = [softmax(logits), zs]`` (paper Sec. 3.1)."""
    return torch.cat([torch.softmax(logits, dim=1), zs], dim=1)


class DCCSNet(ClusterNet):
    """Trains DCCS: ``n_critic`` critic steps, then one encoder step (Algorithm 1).

    A step counter (``dccs_step_``) runs over the whole fit, across epochs: batch ``t`` is
    an encoder step when ``t % (n_critic + 1) == n_critic`` and a critic step otherwise, so
    each step uses a fresh batch, as in the authors' code. With ``adv`` weight 0 there is no
    critic and every batch is an encoder step.

    Modules: ``module_`` (the encoder Q), ``discriminator_`` (D of the mutual-information
    term), ``critic_`` (C, matching the aggregated posterior to the prior) and
    ``decoder_`` (an addition to the paper, for :meth:`DCCS.sample`). Optimisers:
    ``optimizer_`` (Q and D together, Eq. 12-13), ``optimizer_critic_`` (Eq. 14) and
    ``optimizer_decoder_``.

    Every term is recorded per epoch in ``history`` as the mean over the steps that
    computed it: ``mi``, ``aug``, ``adv``, ``balance`` (encoder steps), ``critic``, ``gp``
    and ``w_estimate`` (critic steps), ``decoder`` (encoder steps); ``cluster_entropy``
    comes from the encoder steps' cluster sizes (read by DCCS's collapse guard).

    Parameters
    ----------
    module : CategoryStyleEncoder
        The encoder.
    discriminator, critic, decoder : torch.nn.Module
        D (input ``[features, zc, zs]``), C (input ``[zc, zs]``) and the decoder (input
        ``[zc, zs]``, output a batch shaped like ``X``).
    n_critic : int
        Critic steps per encoder step.
    prior_std : float
        Standard deviation of the style prior N(0, prior_std^2 I).
    betas : (float, float)
        Adam betas of all three optimisers (added to ``optimizer_``'s arguments only when
        its optimiser accepts ``betas``).
    """

    def __init__(self, module, *args, discriminator=None, critic=None, decoder=None,
                 n_critic=4, prior_std=0.1, betas=(0.5, 0.9), **kwargs):
        # Torch components must be set before NeuralNet.__init__ (skorch registers later ones).
        self.discriminator = discriminator
        self.critic = critic
        self.decoder = decoder
        self.n_critic = n_critic
        self.prior_std = prior_std
        self.betas = betas
        super().__init__(module, *args, **kwargs)

    # ------------------------------------------------------------------ set-up
    def initialize_module(self):
        super().initialize_module()
        for name in ("discriminator", "critic", "decoder"):
            setattr(self, name + "_",
                    self.initialized_instance(getattr(self, name), self.get_params_for(name)))
        return self

    def initialize_optimizer(self, *args, **kwargs):
        # optimizer_ trains Q and D together (Eq. 12-13); the critic (Eq. 14) and the
        # decoder have their own, reachable as optimizer_critic__* / optimizer_decoder__*.
        params = list(self.module_.named_parameters()) + [
            ("discriminator." + n, p) for n, p in self.discriminator_.named_parameters()]
        opt_args, opt_kwargs = self.get_params_for_optimizer("optimizer", params)
        if "betas" not in opt_kwargs and "betas" in inspect.signature(self.optimizer).parameters:
            opt_kwargs["betas"] = tuple(self.betas)
        self.optimizer_ = self.optimizer(*opt_args, **opt_kwargs)
        for name, module in (("optimizer_critic", self.critic_),
                             ("optimizer_decoder", self.decoder_)):
            self.make_optimizer(name, module, lr=self.lr, betas=tuple(self.betas))
        return self

    def initialize(self):
        super().initialize()
        self.dccs_step_ = 0  # counts every batch of the fit; never reset per epoch
        return self

    # ------------------------------------------------------------------ latents
    def latent(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(z, logits, features)`` with ``z = [softmax(logits), zs]``."""
        logits, zs, features = self.module_(x)
        return _category_style(logits, zs), logits, features

    def sample_prior(self, clusters: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draws of P_Z: ``[one_hot(cluster), N(0, prior_std^2 I)]`` (Eq. 8)."""
        enc = self.module_
        zc = F.one_hot(clusters, enc.n_clusters).float()
        zs = torch.randn((len(clusters), enc.style_dim), generator=generator,
                         device=clusters.device)
        return torch.cat([zc, self.prior_std * zs], dim=1)

    def uses_critic(self) -> bool:
        return self.weight("adv") > 0

    def is_critic_step(self, step: int) -> bool:
        n = int(self.n_critic)
        return self.uses_critic() and n > 0 and step % (n + 1) != n

    # ------------------------------------------------------------------ inference
    def cluster_proba(self, x: Tensor) -> Tensor:
        """``softmax`` of the category logits."""
        return torch.softmax(self.module_(x)[0], dim=1)

    def embed(self, x: Tensor) -> Tensor:
        """``Z = [softmax(logits), zs]``."""
        logits, zs, _ = self.module_(x)
        return _category_style(logits, zs)

    def generate(self, clusters, generator=None, cluster=None):
        """Decoded draws of the prior's cluster ``clusters`` (Eq. 8)."""
        return self.decoder_(self.sample_prior(clusters, generator))

    # ------------------------------------------------------------------ steps
    def critic_terms(self, X: Tensor) -> dict[str, Tensor]:
        """Loss terms of a critic update (Eq. 11 and 14)."""
        with torch.no_grad():  # encoder in train mode: batch statistics, as the code
            z, _, _ = self.latent(X)
        clusters = torch.randint(0, self.module_.n_clusters, (len(X),), device=X.device,
                                 generator=self._generator)
        z_prior = self.sample_prior(clusters, self._generator)
        critic = self.critic_
        terms = {"critic": wasserstein_critic_loss(critic(z_prior), critic(z))}
        if self.weight("gp"):
            terms["gp"] = gradient_penalty(critic, z_prior, z, generator=self._generator)
        return terms

    def critic_step(self, X: Tensor, batch=None) -> Tensor:
        """Eq. 11 and 14: one update of C on the latents of a clean batch."""
        with self.autocast():
            terms = self.critic_terms(X)
        loss = self.optimizer_step(terms, "optimizer_critic", batch=batch)
        self.record_terms({"w_estimate": -terms["critic"]})  # paper Fig. 3
        return loss

    def encoder_terms(self, X: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        """Loss terms of an encoder update (Eq. 12-13) and the batch's latents."""
        n = len(X)
        terms: dict[str, Tensor] = {}
        X_aug = self.augment(X) if self.weight("aug") else None
        logits_aug = self.module_(X_aug)[0] if X_aug is not None else None  # own BN batch
        z, logits, features = self.latent(X)
        self.record_assignments(logits)  # history "cluster_entropy" (collapse_threshold)
        if self.weight("mi"):
            # Negatives: z of another image of the batch (a random cyclic shift, so that no
            # pair is matched by chance); of the global batch when distributed, so that a
            # negative can come from any rank's shard, as in a single process.
            # Drawn and applied on the device: no host sync in the training step.
            z_glob = self.gather_batch(z)
            n_glob, offset = len(z_glob), getattr(self, "_rank", 0) * n
            shift = (torch.randint(1, max(n_glob, 2), (1,), generator=self._generator,
                                   device=X.device) if n_glob > 1
                     else torch.zeros(1, dtype=torch.long, device=X.device))
            # = torch.roll(z, shift) in a single process
            z_neg = z_glob[(torch.arange(offset, offset + n, device=X.device) - shift) % n_glob]
            scores = self.discriminator_(torch.cat([
                torch.cat([features, z], dim=1), torch.cat([features, z_neg], dim=1)]))
            terms["mi"] = jsd_mi_loss(scores[:n], scores[n:])  # Eq. 6 (x 1/2, see Notes)
        if logits_aug is not None:
            terms["aug"] = categorical_kl(logits, logits_aug).mean()  # Eq. 7
        if self.weight("balance"):  # an addition to the paper (see balance_weight)
            terms["balance"] = self.balance_term(logits)
        if self.uses_critic():
            self.critic_.requires_grad_(False)  # C is a fixed function in this step
            try:
                terms["adv"] = wasserstein_generator_loss(self.critic_(z))  # Eq. 10
            finally:
                self.critic_.requires_grad_(True)
        return terms, z

    def encoder_step(self, X: Tensor, batch) -> Tensor:
        """Eq. 12-13: one update of Q and D together."""
        with self.autocast():
            terms, z = self.encoder_terms(X)
        loss = self.optimizer_step(terms, "optimizer", batch=batch)
        self.decoder_step(z.detach(), X)
        return loss

    def decoder_step(self, z: Tensor, X: Tensor) -> None:
        """The decoder's reconstruction step, on detached latents (clustering unchanged).

        Taken after encoder steps only: on critic steps too it cost 40 % of a fit's time
        on digits, for a network that only :meth:`DCCS.sample` uses.
        """
        if not self.weight("decoder"):
            return
        with self.autocast():
            recon = F.mse_loss(self.decoder_(z.detach()), X)
        self.optimizer_step({"decoder": recon}, "optimizer_decoder")

    def train_step(self, batch, **fit_params):
        X, _ = batch
        self._set_training(True)
        step = self.dccs_step_
        self.dccs_step_ += 1
        if self.is_critic_step(step):
            loss = self.critic_step(X, batch)
        else:
            loss = self.encoder_step(X, batch)
        return {"loss": loss, "y_pred": None}


def _dccs_augmentation(spec: InputSpec) -> _augment.Augmentation:
    """The default second view T(x) (the first view is the clean image)."""
    if not spec.is_image:
        return _augment.GaussianNoise(std=0.1)
    h, w, c = spec.image_shape
    if min(h, w) < 16:
        # A random resized crop destroys an 8x8 digit: small affine moves and brightness.
        return _augment.Compose([
            _augment.RandomAffine(degrees=11.5, translate=0.075, scale=(0.85, 1.15),
                                  shear=8.5),
            _augment.ColorJitter(brightness=0.3),
        ])
    if c == 1:  # the authors' MNIST view (no flip)
        return _augment.Compose([
            _augment.RandomResizedCrop(scale=(0.4, 1.0)),
            _augment.ColorJitter(brightness=0.4, contrast=0.4),
        ])
    return _augment.Compose([  # the authors' CIFAR / STL view (grey conversion in the encoder)
        _augment.RandomResizedCrop(scale=(0.4, 1.0)),
        _augment.RandomAffine(hflip=0.5),
        _augment.ChannelShuffle(p=1.0),
        _augment.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4),
    ])


class DCCS(BaseDeepClusterer):
    """Deep Clustering with Category-Style representation (DCCS).

    An encoder maps each image to ``Z = [Zc, Zs]``: ``Zc``, a softmax over the clusters,
    and ``Zs``, a continuous "style" vector. A WGAN-GP critic pulls the distribution of Z
    onto the prior ``one_hot(Cat(K)) x N(0, prior_std^2 I)``, so ``Zc`` becomes (nearly)
    one-hot and the clusters balanced; a discriminator maximises the mutual information
    between an image and its Z (JSD estimator); and the category of an augmented image must
    equal that of the image (KL), which leaves the augmentation's variation to the style.
    A sample belongs to the argmax of ``Zc``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K (the size of ``Zc``).
    style_dim : int, default=50
        Size of the style vector ``Zs`` (paper: 50; results are flat from 10 to 70).
    prior_std : float, default=0.1
        Standard deviation sigma of the style prior N(0, sigma^2 I) (paper: 0.1); also used
        by :meth:`sample`.
    mi_weight : float, default=0.5
        beta_MI of Eq. 12: weight of the mutual-information loss (history ``mi``).
    aug_weight : float, default=2.0
        beta_Aug of Eq. 12: weight of the augmentation KL (Eq. 7, history ``aug``). The
        paper uses 2 for MNIST / Fashion-MNIST and 4 for CIFAR-10, STL-10, ImageNet-10;
        2 is the default because it is the better value on ``load_digits`` (see Notes).
    adv_weight : float, default=1.0
        beta_Adv of Eq. 12: weight of the encoder's adversarial loss (Eq. 10, history
        ``adv``). 0 removes the critic altogether (every batch is then an encoder step).
    gp_weight : float, default=10.0
        lambda of Eq. 11: weight of the gradient penalty of the critic (history ``gp``).
    decoder_weight : float, default=1.0
        Weight of the decoder's reconstruction MSE (history ``decoder``). The decoder
        learns from detached latents, so it never changes the clustering; it exists only
        for :meth:`sample` (an addition to the paper). 0 turns it off (and :meth:`sample`
        with it).
    balance_weight : float, default=0.0
        Weight of a balance term that the paper does not have: ``KL(q || U_K)``, with ``q``
        the batch's mean cluster probabilities and ``U_K`` uniform (history ``balance``;
        VariationalClustering's and GANIM's term). Off by default outside the warm-up
        (``balance_warmup``) and unless the clusters collapse (``collapse_threshold``),
        which turn it on at weight ``max(1, balance_weight)``. At weight 1 for the whole fit
        it cost the digits, where the clusters form without it: their mean ACC over three
        seeds fell from 0.937 to 0.873 (see Notes).
    balance_warmup : int or "auto", default="auto"
        Epochs at the start of training during which the balance term has weight
        ``max(1, balance_weight)``; afterwards it has ``balance_weight`` (by default 0,
        the paper's objective). ``"auto"`` is ``max_epochs // 8`` (17 of the 138 epochs on
        the digits, 15 of 120 on 10,000 MNIST images); 0 turns the warm-up off (with
        ``collapse_threshold=0`` too, training follows the paper's objective from the
        first step). An addition to the paper: at the start the critic lets most images
        fall into a few clusters, and the MI term leaves chance only after 20-30 epochs on
        10,000 MNIST images; the warm-up spreads them at once (see Notes; history
        ``balance_weight``).
    collapse_threshold : float, default=0.6
        After the warm-up, the clusters count as collapsed once an epoch's
        ``cluster_entropy`` (history: the entropy of the cluster sizes of the epoch's
        encoder-step batches over ``log K``; 1 for equal sizes) falls below this value;
        from then on the balance term has weight ``max(1, balance_weight)`` to the end of
        the fit (history ``balance_weight``). 0 never triggers it. An addition to the
        paper, label-free: the paper's prior is uniform over the clusters, and the term
        restores that marginal where the critic fails to. On COIL-20 (32x32) the critic
        let the clusters collapse to 8-10 of 20 (entropy down to 0.29-0.34), for ACC
        0.353 / 0.185 (seeds 0 / 1); guarded, 0.512 / 0.597 / 0.567 for seeds 0 / 1 / 2,
        with 18-20 clusters. On 10,000 CIFAR-10 images 5-7 of 10 clusters stayed in use
        (entropy down to 0.50-0.53), for 0.247 / 0.260 / 0.170; guarded, 0.220 / 0.277 /
        0.260 with 9-10. On the digits (lowest entropy after the warm-up 0.69-0.92 over
        seeds 0-5), 10,000 MNIST and Fashion-MNIST images (0.84-0.93) the guard never
        acts. On MNIST images with unequal classes (sizes proportional to ``1 / (c + 1)``,
        a size entropy of 0.87) it acted and left the accuracy as it was
        (``docs/methods/dccs.rst``). For
        data whose clusters differ more in size, pass 0.
    n_critic : int, default=4
        Critic steps per encoder step (Algorithm 1).
    grayscale : bool, default=True
        Convert colour images to grey inside the encoder, after the augmentation (the
        paper's colour setting: its CIFAR / STL results are on grey images).
    max_epochs : int or "auto", default="auto"
        Training epochs. ``"auto"`` aims at about 4,000 steps (critic steps included),
        within 120 to 500 epochs: 138 epochs of 29 batches on 1,797 digits, 120 epochs
        (18,840 steps) on 10,000 MNIST images, 120 epochs (131,280 steps) on 70,000. The
        paper trains far longer (its code runs up to 3,000 epochs and suggests early
        stopping): pass ``max_epochs`` for a benchmark.
    batch_size : int, default=64
        Mini-batch size (paper: 64).
    lr : float, default=1e-3
        Learning rate of every optimiser (Adam, betas (0.5, 0.9)). The paper uses 1e-4
        with far more steps; 1e-3 reaches a good solution within the default budget (it
        forms the digits' clusters in half the steps of 5e-4, and on 10,000 MNIST images
        reached 0.779 against 0.745 after 64 epochs; ``docs/methods/dccs.rst``).
    augmentation : "auto", str, callable or None, default="auto"
        Augmentation T of the second view. ``"auto"``: for images under 16 pixels a small
        affine move and brightness change; for larger grey images the authors' random
        resized crop (area 0.4-1) and brightness / contrast jitter; for colour images also a
        horizontal flip, a channel shuffle and saturation jitter; Gaussian noise (0.1 std on
        standardised features) for tabular data. Any name of
        :data:`skdeepclust.augment.PRESETS` (e.g. ``"objects"`` for Fashion-MNIST flips),
        or a callable mapping a float batch ``(N, C, H, W)`` in [0, 1] to an augmented
        batch. ``None`` turns the augmentation term off.
    image_shape : tuple, "tabular" or None, default=None
        Shape ``(height, width)`` or ``(height, width, channels)`` of one sample when ``X``
        is 2-D. ``None`` infers a square one-channel image when the number of features is a
        perfect square of at least 8x8, and tabular data otherwise (MLP encoder).
    encoder : torch.nn.Module, callable or None, default=None
        Your own feature network in place of the default trunk: a module mapping a batch of
        shape ``(N, C, H, W)`` (images, values in [0, 1]) or ``(N, n_features)`` (tabular
        data) to features ``(N, F)``, or a callable that builds one from the shape of one
        sample, e.g. ``lambda shape: MyNet(in_channels=shape[0])``. A module is copied at
        each fit, so the one you pass is never trained. The method's own layers (the
        category-style head ``[Zc, Zs]``, whose features also feed the mutual-information
        discriminator) follow it. With ``grayscale=True`` colour images reach it as one grey
        channel, ``(1, H, W)``. ``save`` cannot store it: use pickle or joblib.
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when it is available.
    precision : {"float32", "bfloat16"}, default="float32"
        ``"bfloat16"`` runs the forward passes of training and inference under
        :func:`torch.autocast` with bfloat16 (weights, optimiser states and loss sums stay
        float32): faster on GPUs with bfloat16 tensor cores, usually slower on CPUs without
        them. See ``benchmarks/SPEED.md`` for measured effects.
    channels_last : bool or "auto", default=False
        Keep image batches and convolution weights in the channels-last memory format;
        ``"auto"`` does so for images on a CPU only. Off by default: on one CPU thread it
        saved under 10 % of a DCCS fit (``benchmarks/results/cpu/channels_last.jsonl``;
        ICAE and GANIM, which gain more, default to ``"auto"``). Ignored for tabular data.
    n_init : int, default=1
        Fits with seeds drawn from ``random_state`` (the first is the plain fit); the one of
        highest :meth:`score` (the mean largest cluster probability, label-free) on the
        training data is kept, like ``KMeans``' run of lowest inertia. On the digits (seeds
        0-2) ``n_init=3`` gave mean ACC 0.897 against 0.926 for one fit: a weak guide here
        (:ref:`seed-stability`).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order, augmentation, prior draws and negatives. The
        same integer gives the same labels on the CPU; global random states are untouched.
    n_threads : int or None, default=1
        Intra-op threads of torch's CPU kernels during ``fit``, inference and
        :meth:`sample` on a CPU device; torch's process-wide setting is restored afterwards.
        ``None`` keeps torch's setting. One thread is the default because these networks run
        small batches, for which more threads cost more in synchronisation than they save
        (measured in ``benchmarks/SPEED.md``); raise it for large images or batches. Ignored
        on a GPU.
    distributed : bool, default=False
        Train data-parallel over several processes started by ``torchrun`` (one per GPU;
        see :doc:`/distributed`). Every process calls ``fit`` with the same data and
        trains on its shard of each epoch; gradients are averaged at every step, so all
        processes end with the same model. ``batch_size`` stays the global batch (each
        process takes ``batch_size // world_size``). ``fit`` initialises the process group
        from torchrun's environment when none is (``nccl`` on GPUs, ``gloo`` on the CPU)
        and leaves it initialised; ``device="auto"`` picks ``cuda:LOCAL_RANK``. Without
        torchrun (or with one process) the fit is an ordinary one.
    verbose : int, default=0
        0 silent; 1 one progress bar over the epochs (with the loss); 2 a table of every
        loss term per epoch; 3 the table and a progress bar over each epoch's batches.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (copied at each fit). To stop when the prior is matched,
        monitor the Wasserstein estimate:
        ``EarlyStopping(monitor="w_estimate", lower_is_better=True, patience=20)``.
    net_kwargs : dict or None, default=None
        Extra arguments for the skorch net (escape hatch), e.g. ``{"optimizer":
        torch.optim.AdamW}``; they override the estimator's own settings.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    image_shape_ : tuple of int or None
        ``(height, width, channels)`` used, or ``None`` for tabular data.
    net_ : skorch.NeuralNet
        The trained skorch net: ``module_`` (encoder), ``discriminator_``, ``critic_``,
        ``decoder_``.
        With ``n_init`` > 1, it and the other fitted attributes are the kept fit's.
    history_ : skorch.History
        Per epoch, each the mean over the steps that computed it: ``mi``, ``aug``, ``adv``
        (encoder steps), ``critic`` (Eq. 11 without the penalty), ``gp``, ``w_estimate``
        (critic steps), ``decoder`` (encoder steps), all unweighted; ``train_loss`` is the mean
        weighted loss over all steps (critic and encoder steps mixed: prefer
        ``w_estimate``); ``cluster_entropy``, the entropy of the epoch's cluster sizes over
        ``log K`` (see ``collapse_threshold``); ``balance_weight``, the balance term's
        weight in the epoch.
    n_iter_ : int
        Number of epochs run; fewer than ``max_epochs`` when a callback such as
        skorch's ``EarlyStopping`` stopped training (``len(history_)``).

    See Also
    --------
    GANIM : GAN features and an information-maximising classifier.
    ICAE : Auto-encoder with predefined centroids.

    Notes
    -----
    ``w_estimate`` is minus the critic's loss without the penalty, the critic's estimate of
    the Wasserstein distance between the aggregated posterior and the prior (paper Fig. 3);
    it falls as training converges and needs no labels, so it is the quantity to monitor
    for early stopping. No epoch is ever selected with labels (the authors' code reports
    the maximum over epochs of each metric, computed with the labels); the fitted model is
    the last one.

    Where the paper is silent the authors' code is followed: the encoder and D share one
    Adam optimiser; the MI loss is the binary cross-entropy averaged over positive and
    negative pairs, i.e. half of Eq. 6 (so ``mi_weight=0.5`` weighs Eq. 6 by 0.25); D sees
    the trunk's features of the clean image concatenated with Z; the KL of Eq. 7 runs
    through both views; every critic step and every encoder step takes its own batch, and
    the schedule runs over the whole fit, not per epoch. Departures:

    - Negatives pair each image with the Z of the image a random cyclic shift away in the
      batch (the code's random permutation sometimes pairs an image with itself).
    - ``adv_weight`` scales the encoder's adversarial term only; the critic's loss is not
      scaled (Adam makes that scale nearly irrelevant), so ``adv_weight=0`` removes the
      critic rather than leaving it untrained.
    - Z is ordered ``[Zc, Zs]`` (the code uses ``[Zs, Zc]``), the same everywhere.
    - Images are scaled to [0, 1] (the code uses [-1, 1]; the encoder normalises).
    - The networks follow the image size, for a CPU budget: under 16 pixels a 3x3 + 4x4
      conv trunk, from 16 to 47 pixels the authors' Encoder28 trunk (also for 32x32, where
      the authors use a ResNet), both with (256, 128) hidden units in C and D and 256 in
      the encoder's hidden layer (the code: 1024, (1024, 512)); from 48 pixels a residual
      trunk in place of the authors' ResNet encoders, with their widths; MLPs for tabular
      data. On 10,000 MNIST images the smaller widths cost 2.7x less time per epoch for
      slightly lower accuracy per epoch. ``lr`` is 1e-3 and the epoch budget follows the
      data size (see ``max_epochs``).
    - The decoder (``decoder_weight``) and :meth:`sample` are additions, and so are the
      balance term (``balance_weight``, off by default), its warm-up
      (``balance_warmup``: weight 1 for the first ``max_epochs // 8`` epochs) and the
      collapse guard (``collapse_threshold``: weight 1 from the first epoch after the
      warm-up whose cluster sizes have a normalised entropy under 0.6).

    On ``load_digits`` with the default parameters (138 epochs, 4,000 steps) the ACC for
    seeds 0, 1, 2 is 0.952, 0.878, 0.940 in about 53 s a fit on one CPU thread (KMeans:
    about 0.79; figures and times in ``benchmarks/SUITE.md``); without the balance
    warm-up 0.922, 0.882, 0.956 (mean over seeds 0-5: 0.903 with it, 0.916 without, a
    difference within the seed spread). Before the warm-up, 5,000 steps gave 0.953,
    0.957, 0.902 in about 57 s. With ``lr=5e-4`` (the former default) the same seeds
    needed 10,000 steps for 0.960, 0.969, 0.865. With the balance term at weight 1 the
    digits seeds 0, 1, 2 gave 0.876, 0.857, 0.887 against 0.953, 0.957, 0.902 without
    it (5,000 steps; measured with the same term patched into the step before it became
    a parameter): it forces balanced clusters before the features separate the classes.
    On 10,000 MNIST images the defaults (120 epochs) gave 0.891, 0.872, 0.825 in 648-668
    s a fit on one CPU thread (KMeans: 0.53), against 0.835, 0.843, 0.794 without the
    balance warm-up; on 10,000 Fashion-MNIST images 0.685, 0.714, 0.674 against 0.638,
    0.680, 0.686 (``docs/methods/dccs.rst``). Inference gives a sample the same
    outputs in any batch under 256 rows, and agrees to float32 rounding in larger ones
    (no float64 copy of the model).

    :meth:`sample` draws ``Zc = one_hot(k)`` and ``Zs ~ N(0, prior_std^2 I)`` and decodes
    them. :meth:`score` is the mean largest cluster probability (in ``[1/K, 1]``).

    References
    ----------
    .. [1] J. Zhao, D. Lu, K. Ma, Y. Zhang, Y. Zheng, "Deep Image Clustering with
       Category-Style Representation", ECCV 2020. arXiv:2007.10004.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeepclust import DCCS
    >>> X = load_digits().data[:200]
    >>> dccs = DCCS(n_clusters=10, max_epochs=2, random_state=0).fit(X)
    >>> dccs.labels_.shape, dccs.transform(X).shape
    ((200,), (200, 60))
    >>> "w_estimate" in dccs.history_[-1]
    True
    >>> X_new, y_new = dccs.sample(4, cluster=3)
    >>> X_new.shape, y_new.tolist()
    ((4, 64), [3, 3, 3, 3])
    """

    _net_class = DCCSNet
    _parameter_constraints = {
        **BaseDeepClusterer._parameter_constraints,
        "style_dim": [POSITIVE_INT],
        "mi_weight": [WEIGHT],
        "aug_weight": [WEIGHT],
        "adv_weight": [WEIGHT],
        "gp_weight": [WEIGHT],
        "decoder_weight": [WEIGHT],
        "balance_weight": [WEIGHT],
        "balance_warmup": [NON_NEGATIVE_INT, StrOptions({"auto"})],
        "collapse_threshold": [Interval(Real, 0, 1, closed="both")],
        "n_critic": [NON_NEGATIVE_INT],
        "prior_std": [POSITIVE_REAL],
        "grayscale": ["boolean"],
        "encoder": ENCODER,
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        style_dim=50,
        prior_std=0.1,
        mi_weight=0.5,
        aug_weight=2.0,
        adv_weight=1.0,
        gp_weight=10.0,
        decoder_weight=1.0,
        balance_weight=0.0,
        balance_warmup="auto",
        collapse_threshold=0.6,
        n_critic=4,
        grayscale=True,
        max_epochs="auto",
        batch_size=64,
        lr=1e-3,
        augmentation="auto",
        image_shape=None,
        encoder=None,
        device="auto",
        precision="float32",
        channels_last=False,
        n_init=1,
        random_state=None,
        n_threads=1,
        distributed=False,
        verbose=0,
        callbacks=None,
        net_kwargs=None,
    ):
        self.n_clusters = n_clusters
        self.style_dim = style_dim
        self.prior_std = prior_std
        self.mi_weight = mi_weight
        self.aug_weight = aug_weight
        self.adv_weight = adv_weight
        self.gp_weight = gp_weight
        self.decoder_weight = decoder_weight
        self.balance_weight = balance_weight
        self.balance_warmup = balance_warmup
        self.collapse_threshold = collapse_threshold
        self.n_critic = n_critic
        self.grayscale = grayscale
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.augmentation = augmentation
        self.image_shape = image_shape
        self.encoder = encoder
        self.device = device
        self.precision = precision
        self.channels_last = channels_last
        self.n_init = n_init
        self.random_state = random_state
        self.n_threads = n_threads
        self.distributed = distributed
        self.verbose = verbose
        self.callbacks = callbacks
        self.net_kwargs = net_kwargs

    # ------------------------------------------------------------------ networks
    def _small(self, spec: InputSpec) -> bool:
        # (256, 128) units in C and D and 256 in the encoder's hidden layer up to 47 pixels:
        # the authors' (1024, 512) and 1024 made an epoch on 28x28 MNIST 2.7x slower for a
        # slightly higher accuracy per epoch (0.779 against 0.741 after 64 epochs on 10,000
        # images, in 750 s against 280 s), so a CPU budget buys more epochs with these.
        return not spec.is_image or min(spec.image_shape[:2]) < RESIDUAL_FROM

    def _build_module(self, spec):
        k, s = int(self.n_clusters), int(self.style_dim)
        if not spec.is_image:
            user = self._user_encoder(spec)
            trunk, dim = user if user is not None else (None, spec.n_features)
            return CategoryStyleEncoder(trunk, dim, k, s, hidden=256, init_trunk=user is None)
        h, w, c = spec.image_shape
        grey = bool(self.grayscale) and c == 3
        # The encoder sees the images after the grey conversion.
        user = self._user_encoder(spec, (1, h, w) if grey else None)
        trunk, dim = user if user is not None else dccs_trunk(1 if grey else c, (h, w))
        return CategoryStyleEncoder(trunk, dim, k, s, hidden=256 if self._small(spec) else 1024,
                                    grayscale=grey, init_trunk=user is None)

    def _net_params(self, spec):
        encoder_features = self._build_module(spec).feature_dim
        latent = int(self.n_clusters) + int(self.style_dim)
        hidden = (256, 128) if self._small(spec) else (1024, 512)
        width = 256 if spec.n_features <= 1024 else 1024
        decoder = mlp((latent, width, width, spec.n_features), batch_norm=False)
        if spec.is_image:  # [0, 1] images in (C, H, W)
            decoder = nn.Sequential(decoder, nn.Sigmoid(), nn.Unflatten(1, spec.tensor_shape))
        return {
            "discriminator": latent_mlp(encoder_features + latent, hidden),
            "critic": latent_mlp(latent, hidden),
            "decoder": decoder,
            "n_critic": int(self.n_critic),
            "prior_std": float(self.prior_std),
            "betas": (0.5, 0.9),
            "criterion__weights": {
                "adv": self.adv_weight,
                "aug": self.aug_weight,
                "mi": self.mi_weight,
                "critic": 1.0,
                "gp": self.gp_weight,
                "decoder": self.decoder_weight,
                "balance": self.balance_weight,
            },
        }

    def _default_augmentation(self, spec):
        return _dccs_augmentation(spec)

    def _warmup_epochs(self, max_epochs: int) -> int:
        return max_epochs // 8 if self.balance_warmup == "auto" else int(self.balance_warmup)

    def _method_callbacks(self, spec, max_epochs):
        # After the schedules (run first), so that a triggered guard overrides them.
        if not self.collapse_threshold:
            return []
        return [("collapse_guard", CollapseGuard(
            "balance", threshold=float(self.collapse_threshold),
            weight=max(1.0, float(self.balance_weight)),
            start=self._warmup_epochs(max_epochs) + 1))]

    def _weight_schedules(self, max_epochs):
        # The balance warm-up: max(1, balance_weight) for the first epochs, then
        # balance_weight (see balance_warmup).
        warmup = self._warmup_epochs(max_epochs)
        if warmup < 1:
            return {}
        milestones = [(1, max(1.0, float(self.balance_weight)))]
        if warmup < max_epochs:
            milestones.append((warmup + 1, float(self.balance_weight)))
        return {"balance": milestones}

    def _auto_max_epochs(self, spec):
        # Digits converge in about 4,000 steps at lr 1e-3 (0.30 s an epoch on one thread):
        # ACC at epochs 140 and 172 was 0.955 / 0.953, 0.947 / 0.957 and 0.897 / 0.902 for
        # seeds 0, 1, 2 (benchmarks/results/trajectory);
        # larger data needs more epochs: on 10,000 MNIST images the MI term leaves chance
        # only after ~24 epochs, and ACC rose from 0.741 at epoch 64 to 0.847 at epoch 128
        # (seed 0, one thread: 607 s for 128 epochs), so 120 epochs fit in 10 minutes there.
        return self._epochs_for_steps(spec, self.batch_size, steps=4000, low=120, high=500)

    # ------------------------------------------------------------------ fitted model
    def _generate(self, n, clusters, generator, cluster):
        if not self.decoder_weight:
            raise ValueError("sample() needs the decoder: fit with decoder_weight > 0.")
        return super()._generate(n, clusters, generator, cluster)
