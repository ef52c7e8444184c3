"""Figures reported by the papers, for comparison (ACC, NMI, ARI where reported)."""

PAPER = {
    # ICAE, arXiv:1906.03905, Table 7 (mean of 5 trials).
    ("icae", "mnist"): {"acc": 0.988, "nmi": 0.967, "source": "ICAE Table 7"},
    ("icae", "fashion_mnist"): {"acc": 0.731, "nmi": 0.689, "source": "ICAE Table 7"},
    ("icae", "coil20"): {"acc": 0.920, "nmi": 0.953, "source": "ICAE Table 7"},
    # Variational Clustering, arXiv:2005.04613.
    ("variational", "mnist"): {"acc": 0.982, "source": "Variational Clustering Table III"},
    ("variational", "fashion_mnist"): {"acc": 0.7172, "source": "Variational Clustering Table III"},
    ("variational", "cifar10"): {"acc": 0.445, "source": "Variational Clustering Table III"},
    # DCCS, ECCV 2020, Table 2.
    ("dccs", "mnist"): {"acc": 0.989, "nmi": 0.970, "ari": 0.976, "source": "DCCS Table 2"},
    ("dccs", "fashion_mnist"): {"acc": 0.756, "nmi": 0.704, "ari": 0.623, "source": "DCCS Table 2"},
    ("dccs", "cifar10"): {"acc": 0.656, "nmi": 0.569, "ari": 0.469, "source": "DCCS Table 2"},
    # GANIM, IEEE TNNLS 2021 (mean of 5 runs).
    ("ganim", "mnist"): {"acc": 0.9885, "source": "GANIM Table III (mean of 5)"},
    ("ganim", "cifar10"): {"acc": 0.6922, "source": "GANIM Table III (mean of 5)"},
}
