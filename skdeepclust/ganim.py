"""GANIM: image clustering with a Sobel-augmented DCGAN and information maximisation.

Ntelemis, Jin & Thomas, "Image Clustering using an Augmented Generative Adversarial Network
and Information Maximization", IEEE TNNLS 2021, arXiv:2011.04094.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import PrintLog
from sklearn.utils._param_validation import Interval, StrOptions
from torch import Tensor, nn

from . import _distributed
from ._base import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    POSITIVE_REAL,
    RATE,
    WEIGHT,
    BaseDeepClusterer,
    _torch_seeded,
)
from ._data import InputSpec, consecutive_batches, merge_moments
from ._net import ClusterNet
from .callbacks import TrainingStages
from .losses import (
    dropout_consistency_loss,
    feature_clip_penalty,
    gan_discriminator_loss,
    gan_generator_loss,
    categorical_kl,
    information_terms,
    virtual_adversarial_perturbation,
)
from .nn import (
    ConvDiscriminator,
    ConvGenerator,
    MLPDiscriminator,
    MLPGenerator,
    MultiHeadClassifier,
)

__all__ = ["GANIM"]

#: Draws per batch and number of batches when ``sample(cluster=k)`` searches for cluster k.
_SAMPLE_BATCH, _SAMPLE_MAX_BATCHES = 1024, 50


#: For streamed data (a memory map, a Dataset) the classifier stage caches the frozen
#: discriminator features M only when the N x d float32 cache fits in this many bytes;
#: above it, M is recomputed per batch (eval mode, so the values do not depend on the
#: batch), trading one discriminator forward per step for O(N d) memory. In-memory tensors
#: always cache (the data is already held whole on the device, and it is faster).
FEATURE_CACHE_BYTES = 256 << 20


def _recalibrate_batch_norm(module: nn.Module, calls) -> None:
    """Replace the running statistics of ``module``'s batch norms by exact averages over
    ``calls`` (pairs of a function and its input, run in train mode without gradients)."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    module.train()
    with torch.no_grad():
        for fn, x in calls:
            fn(x)
    for m, mom in zip(norms, momenta):
        m.momentum = mom


class GANIMNet(ClusterNet):
    """Trains GANIM in two stages of one skorch fit.

    A :class:`~skdeepclust.callbacks.TrainingStages` callback (``[("gan", gan_epochs),
    ("classifier", None)]``, added by the estimator) switches the stages. The ``"gan"``
    stage trains the GAN (one discriminator step, then one generator step per batch, each
    with its own Adam optimiser: ``optimizer_disc_`` and ``optimizer_gen_``). When the
    ``"classifier"`` stage begins, the discriminator's batch-norm statistics are
    recalibrated on the real data and its clean features M are computed once; that stage
    trains the multi-head classifier (``module_``, optimiser ``optimizer_``) on those
    frozen features. Every loss term is recorded per epoch in ``history``, and
    ``history[:, "stage"]`` says which stage an epoch belongs to.

    Parameters
    ----------
    module : MultiHeadClassifier
        The auxiliary classifier.
    generator, discriminator : torch.nn.Module
        The GAN; registered as ``generator_`` and ``discriminator_``.
    gan_batch_size : int
        Batch size of the GAN phase (``batch_size`` is the classifier's).
    gan_lr : float
        Adam learning rate of both GAN optimisers.
    gan_betas : (float, float)
        Adam betas of both GAN optimisers.
    deltas : sequence of float
        Tolerance of each head, as a fraction of ``log K`` (Eq. 4).
    vat_xi, vat_eps : float
        Probe and adversarial radii relative to ``||m_i||`` (Eq. 5-7).
    dropout_rate : float
        Dropout at every site of the discriminator for the features m' (Eq. 8).
    n_dropout_copies : int
        Dropout copies of each sample per batch; VAT uses as many random directions.
    clip_threshold : float
        Threshold of the L1 clip penalty on the discriminator features.
    feature_scaling : {"per_feature", "global"} or None
        How the classifier scales M (fixed training statistics): centred, then divided by
        each feature's std or by one number for all; ``None`` leaves M as it is.
    """

    def __init__(self, module, *args, generator=None, discriminator=None, gan_batch_size=128, gan_lr=2e-4, gan_betas=(0.5, 0.999), deltas=(),
                 vat_xi=1.0, vat_eps=0.2, dropout_rate=0.1, n_dropout_copies=2,
                 clip_threshold=20.0, feature_scaling="global", **kwargs):
        # Torch components must be set before NeuralNet.__init__ (skorch registers later ones).
        self.generator = generator
        self.discriminator = discriminator
        self.gan_batch_size = gan_batch_size
        self.gan_lr = gan_lr
        self.gan_betas = gan_betas
        self.deltas = deltas
        self.vat_xi = vat_xi
        self.vat_eps = vat_eps
        self.dropout_rate = dropout_rate
        self.n_dropout_copies = n_dropout_copies
        self.clip_threshold = clip_threshold
        self.feature_scaling = feature_scaling
        super().__init__(module, *args, **kwargs)

    # ------------------------------------------------------------------ set-up
    def initialize_module(self):
        super().initialize_module()
        self.generator_ = self.initialized_instance(self.generator, self.get_params_for("generator"))
        self.discriminator_ = self.initialized_instance(
            self.discriminator, self.get_params_for("discriminator"))
        return self

    def initialize_optimizer(self, *args, **kwargs):
        # optimizer_ trains only the classifier; the GAN has its own two optimisers,
        # reachable as optimizer_disc__* / optimizer_gen__* (net_kwargs, set_params).
        opt_args, opt_kwargs = self.get_params_for_optimizer(
            "optimizer", self.module_.named_parameters())
        self.optimizer_ = self.optimizer(*opt_args, **opt_kwargs)
        for name, module in (("optimizer_disc", self.discriminator_),
                             ("optimizer_gen", self.generator_)):
            self.make_optimizer(name, module, lr=self.gan_lr, betas=tuple(self.gan_betas))
        return self

    def initialize(self):
        super().initialize()
        self._features = None
        self._features_ready = False
        return self

    def __getstate__(self):
        state = super().__getstate__()
        for key in ("_features", "_train_batches"):
            state.pop(key, None)
        return state

    def get_iterator(self, dataset, training=False):
        it = super().get_iterator(dataset, training=training)
        if training:
            self._train_batches = it  # its batch size follows the phase
        return it

    def begin_stage(self, stage, dataset=None):
        # The stages' batch sizes differ; the iterator reads its batch size per epoch.
        batches = getattr(self, "_train_batches", None)
        if batches is not None:
            size = self.gan_batch_size if stage == "gan" else self.batch_size
            batches.batch_size = self.local_batch_size(min(size, len(batches.X)))
        if stage == "classifier" and not self._features_ready:
            self.prepare_features(getattr(dataset, "X", dataset))
            for _, cb in self.callbacks_:  # new loss columns: print a new table header
                if isinstance(cb, PrintLog):
                    cb.first_iteration_ = True

    def on_train_end(self, net, X=None, **kwargs):
        super().on_train_end(net, X=X, **kwargs)
        if not self._features_ready and X is not None:
            self.prepare_features(X)
        self._features = None  # the training cache; inference recomputes features
        self._train_batches = None

    # ------------------------------------------------------------------ features
    def noise(self, n: int) -> Tensor:
        """Generator input: uniform(-1, 1) noise drawn from the net's generator."""
        z = torch.rand((n, self.generator_.noise_dim), generator=self._generator,
                       device=self.device)
        return z * 2.0 - 1.0

    @torch.no_grad()
    def prepare_features(self, X: Tensor) -> None:
        """Recalibrate the discriminator's batch norm on the real data, then cache M.

        The running statistics the GAN phase leaves behind mix real and generated batches;
        replacing them by the exact statistics of ``X`` (a cumulative average, dropout off)
        makes the features deterministic and independent of the batch.
        """
        n = len(X)
        bs = max(self.gan_batch_size, 2)
        if n % bs == 1:
            bs += 1  # batch norm cannot normalise a batch of one
        sizes = [min(bs, n - s) for s in range(0, n, bs)]
        disc = self.discriminator_
        _recalibrate_batch_norm(disc, ((lambda x: disc(x, dropout=0.0), b)
                                       for b in consecutive_batches(X, bs)))
        # The generator too, so that sample() gets the statistics of its own outputs. The
        # noise is drawn batch by batch (never N x noise_dim at once), and all of it even
        # without batch norms, so the net's generator advances the same either way.
        noise = ((self.generator_, self.noise(k)) for k in sizes)
        _recalibrate_batch_norm(self.generator_, noise)
        for _ in noise:
            pass
        if self.world_size > 1:
            # Every rank recalibrates on all of X (the same result everywhere) except for
            # the generator's noise, which is per rank: average those statistics.
            _distributed.average_batch_norm_stats([self.generator_])
        self.discriminator_.eval()
        self.generator_.eval()
        d = getattr(self.discriminator_, "feature_dim", None)
        if isinstance(X, Tensor) or d is None or n * int(d) * 4 <= FEATURE_CACHE_BYTES:
            self._features = self.features(X)
            if self.feature_scaling is not None:
                self.module_.set_input_stats(self._features, self.feature_scaling)
        else:  # streamed and large: compute M per batch in compute_terms
            self._features = None
            if self.feature_scaling is not None:
                self._set_streamed_input_stats(X)
        self._features_ready = True

    @torch.no_grad()
    def _set_streamed_input_stats(self, X, batch_size: int = 1024,
                                  eps: float = 1e-6) -> None:
        """``set_input_stats`` from one pass over batches: per-feature mean and (unbiased)
        std of M, merged batch by batch in float64 (Chan et al.)."""
        count, mean, m2 = 0, None, None
        for xb in consecutive_batches(X, batch_size):
            m = self.features(xb, batch_size=batch_size).double()
            count, mean, m2 = merge_moments(count, mean, m2, m)
        var = m2 / (count - 1) if count > 1 else torch.ones_like(m2)
        self.module_.set_moments(mean, var, self.feature_scaling, eps)

    @torch.no_grad()
    def features(self, X: Tensor, dropout: float = 0.0, batch_size: int = 1024) -> Tensor:
        """Discriminator features M of ``X`` in eval mode (``dropout`` > 0 gives m')."""
        was = self.discriminator_.training
        self.discriminator_.eval()
        out = torch.cat([self.discriminator_(xb, dropout=dropout)[0]
                         for xb in consecutive_batches(X, batch_size)])
        self.discriminator_.train(was)
        return out

    # ------------------------------------------------------------------ inference
    def cluster_proba(self, x: Tensor, head: int | None = None) -> Tensor:
        """``softmax`` of cluster head ``head`` (by default the classifier's selected
        ``best_head``) on the discriminator's clean features M."""
        clf = self.module_
        head = int(clf.best_head) if head is None else head
        m = self.discriminator_(x, dropout=0.0)[0]
        return torch.softmax(clf.heads[head](clf.hidden(m)), dim=1)

    def embed(self, x: Tensor) -> Tensor:
        """The discriminator's clean features M."""
        return self.discriminator_(x, dropout=0.0)[0]

    def generate(self, clusters, generator=None, cluster=None, head: int | None = None):
        """Generator draws labelled by head ``head`` (by default the selected head); for an
        int ``cluster``, only draws assigned to it, found by drawing batches of 1,024 (at
        most 50 batches)."""
        gen = self.generator_
        device = clusters.device
        n = len(clusters)

        def draw(size):
            z = torch.rand((size, gen.noise_dim), generator=generator, device=device) * 2 - 1
            x = gen(z)
            return x, self.cluster_proba(x, head).argmax(dim=1)

        k = cluster
        if k is None:
            return draw(n)
        found, n_found, n_drawn = [], 0, 0
        for _ in range(_SAMPLE_MAX_BATCHES):
            x, y = draw(_SAMPLE_BATCH)
            n_drawn += _SAMPLE_BATCH
            found.append(x[y == k])
            n_found += len(found[-1])
            if n_found >= n:
                x = torch.cat(found)[:n]
                return x, torch.full((n,), int(k), device=device, dtype=torch.long)
        raise ValueError(
            f"Only {n_found} of {n_drawn} generated samples were assigned to cluster {k}, "
            f"fewer than the {n} requested: the generator (nearly) never produces this "
            "cluster. Ask for fewer samples, use cluster=None, or train the GAN longer "
            "(gan_epochs)."
        )

    # ------------------------------------------------------------------ losses
    def gan_step(self, X: Tensor, batch=None) -> dict:
        """One discriminator step then one generator step (non-saturating GAN)."""
        disc, gen = self.discriminator_, self.generator_
        disc.train()
        gen.train()
        X_aug = self.augment(X)
        real = X if X_aug is None else X_aug
        n = len(real)
        # Discriminator. Real and fake go through separate forwards, so batch norm never
        # mixes their statistics (as in the authors' code).
        with self.autocast():
            with torch.no_grad():
                fake = gen(self.noise(n))
            _, a_real, logit_real = disc(real)
            _, a_fake, logit_fake = disc(fake)
            d_terms = {"disc": gan_discriminator_loss(logit_real, logit_fake)}
            if self.weight("clip"):
                # A sum over the batch: distributed, each rank sums its shard and the
                # gradients are averaged, so scale by the number of ranks to keep the
                # global batch's sum (and the recorded value an estimate of it).
                d_terms["clip"] = self.world_size * (
                    feature_clip_penalty(a_real, self.clip_threshold)
                    + feature_clip_penalty(a_fake, self.clip_threshold))
        loss_d = self.optimizer_step(d_terms, "optimizer_disc", batch=batch)
        # Generator, with a fresh noise draw.
        with self.autocast():
            g_terms = {"gen": gan_generator_loss(disc(gen(self.noise(n)))[2])}
        loss_g = self.optimizer_step(g_terms, "optimizer_gen", batch=batch)
        return {"loss": loss_d + loss_g, "y_pred": None}

    def information_per_head(self, probs: list[Tensor]) -> dict[str, Tensor]:
        """The two parts of Eq. 4 for each head, shapes ``(n_heads,)``: ``marginal``, the
        tolerant ``KL(p(y) || U)`` of the rows' mean (Eq. 3-4), and ``entropy``,
        ``H(Y | M)``."""
        parts = [information_terms(p, d) for p, d in zip(probs, self.deltas)]
        return {"marginal": torch.stack([marg for marg, _ in parts]),
                "entropy": torch.stack([cond for _, cond in parts])}

    def consistency_per_head(self, X: Tensor, m: Tensor, probs: list[Tensor],
                             generator: torch.Generator | None) -> dict[str, Tensor]:
        """Eq. 8 (``dropout``) and Eq. 6 (``vat``) for each head, shapes ``(n_heads,)``:
        means over the samples of the batch and their ``n_dropout_copies`` dropout copies
        (as many random VAT directions). Terms with weight 0 are skipped."""
        clf = self.module_
        r = max(int(self.n_dropout_copies), 1)
        out: dict[str, Tensor] = {}
        if self.weight("dropout") and self.n_dropout_copies > 0:
            probs_drop = clf(self.features(X.repeat((r,) + (1,) * (X.ndim - 1)),
                                           self.dropout_rate))
            out["dropout"] = torch.stack([  # Eq. 8
                dropout_consistency_loss(p.repeat(r, 1), q) for p, q in zip(probs, probs_drop)])
        if self.weight("vat"):
            m_rep = m.repeat(r, 1)
            probs_rep = [p.repeat(r, 1) for p in probs]
            r_adv = virtual_adversarial_perturbation(  # Eq. 5-7, one direction for all heads
                clf, m_rep, probs_rep, self.vat_xi, self.vat_eps, generator=generator)
            probs_adv = clf(m_rep + r_adv)
            out["vat"] = torch.stack([categorical_kl(p.detach(), q, inputs="probs").mean()
                                      for p, q in zip(probs_rep, probs_adv)])
        return out

    def compute_terms(self, X: Tensor, indices: Tensor) -> dict[str, Tensor]:
        """Eq. 9 for a batch: each term is averaged over all heads."""
        if self._features is not None:
            m = self._features[indices]
        else:  # streamed data: M of this batch, float32 as the cache would hold it
            with torch.autocast(device_type=torch.device(self.device).type, enabled=False):
                m = self.features(X)
        probs = self.module_(m)
        terms = {}
        if self.weight("marginal") or self.weight("entropy"):
            # The marginal p(y) is a mean over the batch: distributed, take it over the
            # global batch (one gather for all heads).
            probs_glob = probs
            if self.world_size > 1:
                sizes = [p.shape[1] for p in probs]
                probs_glob = self.gather_batch(torch.cat(list(probs), dim=1)).split(sizes, 1)
            terms.update(self.information_per_head(list(probs_glob)))
        terms.update(self.consistency_per_head(X, m, probs, self._generator))
        return {name: per_head.mean() for name, per_head in terms.items()}

    # ------------------------------------------------------------------ training
    def train_step(self, batch, **fit_params):
        X, indices = batch
        if self.stage_ == "gan":
            return self.gan_step(X, batch)
        self._set_training(True)
        self.discriminator_.eval()  # frozen feature extractor
        self.generator_.eval()
        with self.autocast():
            terms = self.compute_terms(X, indices)
        return {"loss": self.optimizer_step(terms, batch=batch), "y_pred": None}

    # ------------------------------------------------------------------ evaluation
    def head_losses(self, X: Tensor, seed: int = 0, batch_size: int = 1024) -> Tensor:
        """Each head's Eq. 9 loss on all of ``X``, weighted as in training.

        The marginal uses the whole data set rather than a batch. VAT directions and
        dropout masks are drawn from RNGs seeded with ``seed`` (torch's global state is
        forked and restored), so the values are reproducible.
        """
        with _torch_seeded(int(seed), torch.device(self.device)):
            return self._head_losses(X, seed, batch_size)

    def _head_losses(self, X, seed: int, batch_size: int) -> Tensor:
        # One pass over batches of X (a tensor or streamed data): the features, the
        # probabilities (kept, N x K per head, for the data-set marginal) and the dropout
        # and VAT sums. Eval mode draws nothing for M or the probabilities, so the values
        # and the RNG draws are those of separate passes.
        self._set_training(False)
        gen = torch.Generator(device=self.device).manual_seed(int(seed))
        parts: list[list[Tensor]] = []
        sums: dict[str, Tensor] = {}
        n = 0
        with torch.no_grad():
            for xb in consecutive_batches(X, batch_size):
                mb = self.features(xb, batch_size=batch_size)
                pb = self.module_(mb)
                parts.append(pb)
                n_b = len(mb)
                n += n_b
                # The same per-batch terms as in training, summed over all samples.
                for name, value in self.consistency_per_head(xb, mb, pb, gen).items():
                    sums[name] = value * n_b if name not in sums else sums[name] + value * n_b
            probs = [torch.cat(ps) for ps in zip(*parts)]
            terms = self.information_per_head(probs)  # the marginal of the whole data set
        terms.update({name: total / n for name, total in sums.items()})
        return sum(self.weight(name) * value for name, value in terms.items()).detach()


class GANIM(BaseDeepClusterer):
    """GANIM: Sobel-augmented DCGAN features and a multi-head information-maximising
    classifier.

    Two stages in one fit (paper Sec. III). First a DCGAN is trained; its discriminator sees
    the image beside its fixed Sobel edges and has an L1 clip penalty on its feature layer
    M. Then, on the frozen features M, an MLP with several softmax heads maximises the
    mutual information between M and the cluster assignment, with a tolerance on the
    uniform-marginal term (Eq. 3-4), while staying smooth under virtual adversarial
    perturbations of M (Eq. 5-7) and, if ``dropout_weight`` > 0, under dropout in the
    discriminator (Eq. 8). Clusters come from the cluster head with the lowest loss.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K (size of each cluster head).
    noise_dim : int, default=100
        Dimension of the generator's uniform(-1, 1) noise (paper: 100 MNIST, 200 CIFAR).
    gan_epochs : int or "auto", default="auto"
        Epochs of the GAN stage (the first ``gan_epochs`` of ``max_epochs``). ``"auto"``
        aims at about 75 GAN steps (batches of ``gan_batch_size``) for one-channel images
        and tabular data and about 400 for colour images, within 1 to 40 epochs: 5 epochs
        on the 1,797 digits, 1 on 10,000 MNIST images, 5 on 10,000 CIFAR-10 images. That is
        far below the paper's 250,000 iterations, on purpose: within a CPU budget a longer
        GAN stage gave worse clusters on grey images, while on colour images the shortest
        one left them below ``KMeans`` (see Notes); on a GPU, raise it (hundreds of epochs).
    gan_batch_size : int, default=128
        Batch size of the GAN stage (paper: 128).
    gan_lr : float, default=2e-4
        Adam learning rate of the generator and the discriminator (authors' code 2e-4;
        the paper writes 1e-4).
    gan_betas : tuple of float, default=(0.5, 0.999)
        Adam betas of the GAN stage.
    base_channels : int or None, default=None
        Channels of the discriminator's first conv block, doubled at each block; ``None``:
        32 for one-channel images, 64 for colour (paper Table II/III).
    feature_dim : int, None or "auto", default="auto"
        Size of the feature layer M. ``None`` flattens the last conv block (paper, grey
        images); an int adds a fully connected layer of that size (paper: 1024 for colour);
        ``"auto"`` picks ``None`` for one channel and 1024 otherwise.
    sobel : bool, default=True
        Feed the discriminator the Sobel edges beside the image (Sec. III-A).
    disc_dropout : float, default=0.2
        Dropout rate of the discriminator during the GAN stage.
    clip_threshold : float, default=20.0
        Features whose pre-activation exceeds this in absolute value are penalised.
    clip_weight : float, default=1e-3
        Weight of the L1 clip penalty ``sum max(|a| - clip_threshold, 0)`` in the
        discriminator's loss (authors' code: 1e-3).
    n_heads : int, default=5
        Number of cluster heads of size K.
    n_overcluster_heads : int, default=1
        Number of over-clustering heads of size ``overcluster_k``; they shape the features
        during training and are never used for prediction.
    overcluster_k : int or None, default=None
        Size of the over-clustering heads; ``None`` is ``5 * n_clusters``.
    hidden_dims : tuple of int, default=(256, 256)
        Hidden layers of the classifier (paper: (1024, 1024)).
    clf_init_std : float or None, default=None
        Initialise the classifier's weights N(0, std) (paper: 1e-2 grey, 1e-3 colour);
        ``None`` keeps PyTorch's default initialisation.
    feature_scaling : {"global", "per_feature"} or None, default="global"
        How the classifier scales the frozen features M (with statistics of the training
        data, fixed after the GAN stage): centred per feature, then divided by one number
        for all features, the root mean variance (``"global"``), or by each feature's std
        (``"per_feature"``); ``None`` feeds M unchanged (the paper). Centring keeps the
        heads from collapsing onto the features' large common component after a short
        GAN stage; ``"global"`` keeps their relative scales, so that the many
        near-constant features of a briefly trained discriminator are not blown up to unit
        variance. See Notes.
    delta : float, default=1e-4
        Tolerance of the cluster heads, as a fraction of ``log K``: the marginal
        ``KL(p(y) || uniform)`` costs nothing below ``delta * log K`` (Eq. 4). Raise it for
        imbalanced clusters (paper Table V).
    overcluster_delta : float, default=1e-2
        Same for the over-clustering heads.
    info_weight : float, default=0.2
        ``lambda`` of Eq. 9, the weight of the information term. 0 turns it off.
    marginal_weight : float, default=4.0
        Extra factor on the marginal term inside the information term (authors' code; the
        paper's Eq. 4 has 1). The marginal term's weight is ``info_weight * marginal_weight``.
    vat_weight : float, default=0.5
        Weight of the virtual adversarial term (Eq. 6, 9).
    dropout_weight : float, default=0.0
        Weight of the dropout consistency term (Eq. 8, 9; the paper: 0.5). 0 skips the
        term and with it the discriminator passes over dropout copies of each batch, which
        cost about half of a classifier step on one CPU thread: spent on more steps
        instead, they give better clusters (see Notes).
    vat_xi : float or None, default=None
        Radius of the VAT probe relative to ``||m_i||`` (the paper's ``alpha_r``); ``None``:
        1.0 for one-channel images and tabular data, 0.3 for colour.
    vat_eps : float or None, default=None
        Radius of the adversarial perturbation relative to ``||m_i||`` (``alpha_adv``);
        ``None``: 0.2 for one-channel images and tabular data, 0.15 for colour.
    dropout_rate : float, default=0.1
        Dropout at every discriminator site for the features m' of Eq. 8.
    n_dropout_copies : int, default=2
        Dropout copies of each sample per batch (paper: 5); also the number of random VAT
        directions per sample.
    transform_mode : {"features", "proba"}, default="features"
        What :meth:`transform` returns: the discriminator features M, or the best head's
        probabilities (``n_clusters`` columns). Either way :meth:`get_feature_names_out`
        names the columns ``ganim0``, ``ganim1``, ...; it follows a change made with
        ``set_params`` after fitting.
    max_epochs : int or "auto", default="auto"
        Total epochs, GAN stage included: epochs ``gan_epochs + 1 .. max_epochs`` train
        the classifier. ``"auto"`` is ``gan_epochs`` plus about 960 classifier steps within
        40 to 200 epochs (120 epochs on 1,797 digits, 40 on 10,000 images).
    batch_size : int, default=256
        Batch size of the classifier stage (paper: 500).
    lr : float, default=1e-3
        Learning rate of the classifier's optimiser (paper: Adam 1e-4).
    augmentation : "auto", str, callable or None, default="auto"
        GANIM does not use augmentation: ``"auto"`` means none. A preset name or a callable
        is applied to the real images in the discriminator step (so the generator learns
        the augmented distribution); the classifier always sees clean features.
    image_shape : tuple, "tabular" or None, default=None
        Shape ``(height, width)`` or ``(height, width, channels)`` of one sample when ``X``
        is 2-D; ``None`` infers a square one-channel image when the number of features is a
        perfect square of at least 8x8. Crop images beforehand to reproduce the paper's
        24x24 MNIST.
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when it is available.
    precision : {"float32", "bfloat16"}, default="float32"
        ``"bfloat16"`` runs the forward passes of training and inference under
        :func:`torch.autocast` with bfloat16 (weights, optimiser states and loss sums stay
        float32): faster on GPUs with bfloat16 tensor cores, usually slower on CPUs without
        them. See ``benchmarks/SPEED.md`` for measured effects.
    channels_last : bool or "auto", default="auto"
        Keep image batches and convolution weights in the channels-last memory format.
        ``"auto"`` does so for images on a CPU, where oneDNN's convolutions ran GANIM's
        stages about 1.2x faster in it
        (``benchmarks/results/cpu/channels_last.jsonl``), and not on a GPU. Ignored
        for tabular data.
    n_init : int, default=1
        Fits with seeds drawn from ``random_state`` (the first is the plain fit); the one of
        highest :meth:`score` (the mean largest cluster probability, label-free) on the
        training data is kept, like ``KMeans``' run of lowest inertia. On the digits (seeds
        0-2) ``n_init=3`` gave mean ACC 0.897 against 0.883 for one fit
        (:ref:`seed-stability`).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, noise, batch order, dropout and VAT directions. The same
        integer gives the same labels on the CPU; global random states are never changed.
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
        Extra skorch callbacks (copied at each fit).
    net_kwargs : dict or None, default=None
        Extra arguments for the skorch net, e.g. ``{"optimizer": torch.optim.AdamW}`` (the
        classifier's optimiser); they override the estimator's own settings.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    best_head_ : int
        Index of the cluster head used for prediction: the one with the lowest loss on the
        training data (no labels involved).
    head_losses_ : ndarray of shape (n_heads + n_overcluster_heads,)
        Loss of every head (Eq. 9, full-data marginal), cluster heads first.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    image_shape_ : tuple of int or None
        ``(height, width, channels)`` used, or ``None`` for tabular data.
    net_ : skorch.NeuralNet
        The trained net: ``net_.module_`` the classifier, ``net_.generator_`` and
        ``net_.discriminator_`` the GAN.
        With ``n_init`` > 1, it and the other fitted attributes are the kept fit's.
    history_ : skorch.History
        Per epoch: ``stage`` (``"gan"`` or ``"classifier"``), ``train_loss`` and the
        unweighted terms: ``disc``, ``gen``, ``clip`` in the GAN stage, ``marginal``,
        ``entropy``, ``vat`` and, with ``dropout_weight`` > 0, ``dropout`` (averaged over
        heads) in the classifier stage.
    n_iter_ : int
        Number of epochs run, GAN stage included; fewer than ``max_epochs`` when a
        callback such as skorch's ``EarlyStopping`` stopped training (``len(history_)``).

    See Also
    --------
    ICAE : Auto-encoder with predefined centroids.

    Notes
    -----
    The loss of head j (Eq. 9, with the authors' factor on the marginal) is
    ``info_weight * (marginal_weight * max(KL(p(y) || U) - delta log K, 0) + H(Y | M))
    + vat_weight * KL(p(y|m) || p(y|m + r_adv)) + dropout_weight * KL(p(y|m) || p(y|m'))``,
    averaged over all heads. Where the authors' code differs from the paper, this follows
    the code (it produced the published numbers):

    - the marginal term has a factor 4 (``marginal_weight``) and the tolerance is
      ``delta * log K``;
    - the VAT radii are proportional to ``||m_i||`` (not squared), the adversarial
      direction is normalised by its L2 norm, and one direction is shared by all heads;
    - the clip penalty is summed over the batch, on the pre-activation of M, for real and
      generated batches; the GAN uses Adam 2e-4 and one discriminator step per generator
      step; the dropout term back-propagates through both of its sides.

    Departures, for small data and for a clean implementation: the discriminator's batch
    norm is recalibrated on the real data after the GAN stage (the code keeps statistics
    mixed with generated batches), and the generator's on its own outputs, so that
    :meth:`sample` works in eval mode; the classifier centres M per feature and divides
    it by one number (``feature_scaling``, fixed training statistics: a linear change of
    its first layer's coordinates). Without centring, after a short GAN stage the features
    share a large common component and the heads collapse to one constant output; scaling
    each feature to unit variance instead blows up the many features that barely vary
    (on 10,000 MNIST images, seeds 0-2: ACC 0.756 with one number against 0.650 per
    feature; the same on the digits, Fashion-MNIST and COIL-20 within the seeds' spread);
    dropout copies are drawn per batch (2 rather than 5), and the dropout term is off by
    default (``dropout_weight=0``): its discriminator passes over the copies cost about
    half of each classifier step on a CPU, and the same time spent on twice the
    classifier steps gives better clusters (10,000 MNIST images, seeds 0-2: 0.812 mean in
    about 190 s against 0.756 in 230 s; the digits, Fashion-MNIST and COIL-20 equal
    within the seeds' spread);
    the classifier has (256, 256) hidden units, PyTorch's initialisation, Adam 1e-3 and
    batches of 256, because with the paper's settings a small data set gets too few steps
    to leave the uniform plateau. The GAN trains about 75 steps (``gan_epochs="auto"``)
    against the code's 250,000 iterations on MNIST: measured on one CPU thread, a GAN
    stopped after a few hundred steps gives the classifier worse features than one
    barely trained (digits, seeds 0-2: ACC 0.865 mean after 15 steps, 0.894 after 75,
    0.811 after 600 with a spread of 0.17; 10,000 MNIST images, seed 0: 0.689 after 79
    steps in 5 minutes, 0.661 after 790, and 3,160 steps did not finish in 30 minutes),
    so within a CPU budget a short GAN stage is both better and cheaper on grey images.
    Colour images get about 400 steps: on 10,000 CIFAR-10 images (Intel Xeon, one thread)
    79 steps gave ACC 0.194 / 0.193 / 0.203 for seeds 0-2 in about 240 s, below KMeans'
    0.207, and 395 steps (5 epochs) 0.216 / 0.235 / 0.237 (NMI 0.120 against 0.064 on
    average) in 835-861 s. The paper does not say how the
    "lowest loss" head is chosen; here it is its full-data loss after training. For
    tabular input the generator and discriminator are MLPs and there is no Sobel block.

    :meth:`sample` draws generator images and labels them with the best head. With
    ``cluster=k`` it draws batches of 1,024 until enough are assigned to k, at most 50
    batches, and raises ``ValueError`` when the generator (nearly) never produces cluster
    k. :meth:`score` is the best head's mean largest probability (in ``[1/K, 1]``).

    References
    ----------
    .. [1] F. Ntelemis, Y. Jin, S. A. Thomas, "Image Clustering using an Augmented
       Generative Adversarial Network and Information Maximization", IEEE Transactions on
       Neural Networks and Learning Systems, 2021. arXiv:2011.04094.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeepclust import GANIM
    >>> X = load_digits().data[:200]
    >>> ganim = GANIM(n_clusters=10, gan_epochs=1, max_epochs=2, random_state=0).fit(X)
    >>> ganim.labels_.shape, ganim.transform(X).shape
    ((200,), (200, 256))
    >>> ganim.history_[:, "stage"]
    ['gan', 'classifier']
    """

    _net_class = GANIMNet
    _parameter_constraints = {
        **BaseDeepClusterer._parameter_constraints,
        "noise_dim": [POSITIVE_INT],
        "gan_epochs": [NON_NEGATIVE_INT, StrOptions({"auto"})],
        "gan_batch_size": [Interval(Integral, 2, None, closed="left")],
        "gan_lr": [POSITIVE_REAL],
        "gan_betas": [tuple, list],  # two numbers in [0, 1): _validate_method_params
        "base_channels": [POSITIVE_INT, None],
        "feature_dim": [POSITIVE_INT, StrOptions({"auto"}), None],
        "sobel": ["boolean"],
        "disc_dropout": [RATE],
        "clip_threshold": [WEIGHT],
        "clip_weight": [WEIGHT],
        "n_heads": [POSITIVE_INT],
        "n_overcluster_heads": [NON_NEGATIVE_INT],
        "overcluster_k": [POSITIVE_INT, None],
        "hidden_dims": [tuple, list],  # positive ints: _validate_method_params
        "clf_init_std": [POSITIVE_REAL, None],
        "feature_scaling": [StrOptions({"global", "per_feature"}), None],
        "delta": [WEIGHT],
        "overcluster_delta": [WEIGHT],
        "info_weight": [WEIGHT],
        "marginal_weight": [WEIGHT],
        "vat_weight": [WEIGHT],
        "dropout_weight": [WEIGHT],
        "vat_xi": [POSITIVE_REAL, None],
        "vat_eps": [WEIGHT, None],
        "dropout_rate": [RATE],
        "n_dropout_copies": [NON_NEGATIVE_INT],
        "transform_mode": [StrOptions({"features", "proba"})],
    }
    _image_range = (-1.0, 1.0)

    def __init__(
        self,
        n_clusters=8,
        *,
        noise_dim=100,
        gan_epochs="auto",
        gan_batch_size=128,
        gan_lr=2e-4,
        gan_betas=(0.5, 0.999),
        base_channels=None,
        feature_dim="auto",
        sobel=True,
        disc_dropout=0.2,
        clip_threshold=20.0,
        clip_weight=1e-3,
        n_heads=5,
        n_overcluster_heads=1,
        overcluster_k=None,
        hidden_dims=(256, 256),
        clf_init_std=None,
        feature_scaling="global",
        delta=1e-4,
        overcluster_delta=1e-2,
        info_weight=0.2,
        marginal_weight=4.0,
        vat_weight=0.5,
        dropout_weight=0.0,
        vat_xi=None,
        vat_eps=None,
        dropout_rate=0.1,
        n_dropout_copies=2,
        transform_mode="features",
        max_epochs="auto",
        batch_size=256,
        lr=1e-3,
        augmentation="auto",
        image_shape=None,
        device="auto",
        precision="float32",
        channels_last="auto",
        n_init=1,
        random_state=None,
        n_threads=1,
        distributed=False,
        verbose=0,
        callbacks=None,
        net_kwargs=None,
    ):
        self.n_clusters = n_clusters
        self.noise_dim = noise_dim
        self.gan_epochs = gan_epochs
        self.gan_batch_size = gan_batch_size
        self.gan_lr = gan_lr
        self.gan_betas = gan_betas
        self.base_channels = base_channels
        self.feature_dim = feature_dim
        self.sobel = sobel
        self.disc_dropout = disc_dropout
        self.clip_threshold = clip_threshold
        self.clip_weight = clip_weight
        self.n_heads = n_heads
        self.n_overcluster_heads = n_overcluster_heads
        self.overcluster_k = overcluster_k
        self.hidden_dims = hidden_dims
        self.clf_init_std = clf_init_std
        self.feature_scaling = feature_scaling
        self.delta = delta
        self.overcluster_delta = overcluster_delta
        self.info_weight = info_weight
        self.marginal_weight = marginal_weight
        self.vat_weight = vat_weight
        self.dropout_weight = dropout_weight
        self.vat_xi = vat_xi
        self.vat_eps = vat_eps
        self.dropout_rate = dropout_rate
        self.n_dropout_copies = n_dropout_copies
        self.transform_mode = transform_mode
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.augmentation = augmentation
        self.image_shape = image_shape
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

    # ------------------------------------------------------------------ validation
    def _validate_method_params(self, spec):
        betas = self.gan_betas
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2
                and all(isinstance(b, Real) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"gan_betas must be two numbers in [0, 1), got {betas!r}.")
        dims = self.hidden_dims
        if not (isinstance(dims, (tuple, list)) and all(
                isinstance(d, Integral) and not isinstance(d, bool) and d > 0 for d in dims)):
            raise ValueError(f"hidden_dims must be a tuple of positive ints, got {dims!r}.")
        gan_epochs = self._gan_epochs(spec)
        if self.max_epochs != "auto" and self.max_epochs <= gan_epochs:
            warnings.warn(
                f"max_epochs={self.max_epochs} <= gan_epochs={gan_epochs}: the "
                "classifier is not trained and predictions are those of its initialisation. "
                "max_epochs counts the GAN epochs too; raise it above gan_epochs.",
                stacklevel=4,
            )

    # ------------------------------------------------------------------ networks
    def _colour(self, spec: InputSpec) -> bool:
        return spec.is_image and spec.channels > 1

    def _discriminator(self, spec: InputSpec) -> nn.Module:
        if not spec.is_image:
            return MLPDiscriminator(spec.n_features, dropout=self.disc_dropout)
        h, w, c = spec.image_shape
        base = self.base_channels or (64 if c > 1 else 32)
        fdim = self.feature_dim
        if fdim == "auto":
            fdim = 1024 if c > 1 else None
        return ConvDiscriminator(c, (h, w), base, fdim, self.disc_dropout, bool(self.sobel))

    def _head_sizes(self) -> list[int]:
        k_over = self.overcluster_k or 5 * self.n_clusters
        return [self.n_clusters] * self.n_heads + [k_over] * self.n_overcluster_heads

    def _build_module(self, spec):
        # The discriminator is built here only to size the classifier's input; the
        # discriminator the net trains is built in _net_params.
        in_dim = self._discriminator(spec).feature_dim
        return MultiHeadClassifier(in_dim, self._head_sizes(), tuple(self.hidden_dims),
                                   self.clf_init_std)

    def _net_params(self, spec):
        if spec.is_image:
            h, w, c = spec.image_shape
            generator = ConvGenerator(self.noise_dim, c, (h, w), self.base_channels or (
                64 if c > 1 else 32))
        else:
            generator = MLPGenerator(self.noise_dim, spec.n_features)
        colour = self._colour(spec)
        xi = self.vat_xi if self.vat_xi is not None else (0.3 if colour else 1.0)
        eps = self.vat_eps if self.vat_eps is not None else (0.15 if colour else 0.2)
        deltas = ([float(self.delta)] * self.n_heads
                  + [float(self.overcluster_delta)] * self.n_overcluster_heads)
        return {
            "generator": generator,
            "discriminator": self._discriminator(spec),
            "gan_batch_size": min(int(self.gan_batch_size), spec.n_samples),
            "gan_lr": float(self.gan_lr),
            "gan_betas": tuple(float(b) for b in self.gan_betas),
            "deltas": deltas,
            "vat_xi": float(xi),
            "vat_eps": float(eps),
            "dropout_rate": float(self.dropout_rate),
            "n_dropout_copies": int(self.n_dropout_copies),
            "clip_threshold": float(self.clip_threshold),
            "feature_scaling": self.feature_scaling,
            "criterion__weights": {
                "disc": 1.0,
                "gen": 1.0,
                "clip": self.clip_weight,
                "marginal": self.info_weight * self.marginal_weight,
                "entropy": self.info_weight,
                "vat": self.vat_weight,
                "dropout": self.dropout_weight,
            },
        }

    def _default_augmentation(self, spec):
        return None  # the paper trains the GAN on the plain images

    #: GAN steps of ``gan_epochs="auto"`` for one-channel images and tabular data.
    _AUTO_GAN_STEPS = 75
    #: The same for colour images (see the Notes for the measurements of both).
    _AUTO_GAN_STEPS_COLOUR = 400

    def _gan_epochs(self, spec: InputSpec) -> int:
        if self.gan_epochs != "auto":
            return int(self.gan_epochs)
        # Colour images need a longer GAN stage before the discriminator's features say
        # more than the pixels do (CIFAR-10: 79 steps left the classifier below KMeans).
        steps = self._AUTO_GAN_STEPS_COLOUR if self._colour(spec) else self._AUTO_GAN_STEPS
        return self._epochs_for_steps(spec, self.gan_batch_size, steps=steps, low=1, high=40)

    def _method_callbacks(self, spec, max_epochs):
        return [("stages", TrainingStages([("gan", self._gan_epochs(spec)),
                                           ("classifier", None)]))]

    def _distributed_batch_sizes(self):
        return {"gan_batch_size": self.gan_batch_size}

    def _auto_max_epochs(self, spec):
        clf = self._epochs_for_steps(spec, self.batch_size, steps=960, low=40, high=200)
        return self._gan_epochs(spec) + clf

    # ------------------------------------------------------------------ fitted model
    def _after_fit(self, X_net):
        losses = self.net_.head_losses(X_net, seed=self.net_.seed)
        self.head_losses_ = losses.cpu().numpy().astype(np.float64)
        # The module predicts with this head from now on (saved with its weights).
        self.best_head_ = self.net_.module_.select_head(losses[: self.n_heads])

    def _embed(self, x):
        if self.transform_mode == "proba":
            return self.net_.cluster_proba(x)
        return self.net_.embed(x)

    def _n_transform_features(self):
        # Mirrors _embed: the best head's probabilities, or the discriminator's features M.
        if self.transform_mode == "proba":
            return self.net_.module_.heads[self.best_head_].out_features
        return self.net_.discriminator_.feature_dim

    def sample(self, n_samples=1, cluster=None):
        """Generate samples with the generator, labelled by the best cluster head.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        cluster : int or None, default=None
            ``None``: plain generator draws, with the cluster each is assigned to. An int:
            only draws assigned to this cluster, found by drawing batches of 1,024 (at
            most 50 batches). Raises ``ValueError`` when fewer than ``n_samples`` are found,
            i.e. when the generator (nearly) never produces that cluster.

        Returns
        -------
        X : ndarray
            Generated samples in the layout, value range and dtype of the data given to
            ``fit``.
        y : ndarray of shape (n_samples,)
            Cluster of each sample.
        """
        return super().sample(n_samples, cluster)

