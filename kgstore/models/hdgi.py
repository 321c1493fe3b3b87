"""Heterogeneous Deep Graph Infomax for user personas."""

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import Linear, Module, ModuleDict, Parameter, PReLU

from kgstore.models.sparse_product import SparseProduct

EPS = 1e-15


@dataclass
class MetaPathInput:
    """One meta-path's structure for a set of target users.

    Attributes:
        name: the meta-path's name (`UIU`, `UIEIU:people`, …).
        mid_type: the node type the path runs through (`Item` or `Entity`), whose
            features reach the users along it.
        adjacency: the [targets, sources] meta-path adjacency over users, normalised
            as in GCN (self loops included when targets are sources), held in CSR with
            its transpose for the product and its gradient.
        reached: dense [sources, features of mid_type]: the mean input features of the
            items (or the entities reached through the user's items) each source user
            touches; zeros for a user the path does not reach. Input features are fixed,
            so this is computed once, not in every step.
    """

    name: str
    mid_type: str
    adjacency: SparseProduct
    reached: Tensor

    def to(self, device: torch.device | str) -> "MetaPathInput":
        return MetaPathInput(
            self.name, self.mid_type, self.adjacency.to(device), self.reached.to(device)
        )


class HDGI(Module):
    r"""Heterogeneous Deep Graph Infomax from Ren et al., `"Heterogeneous Deep Graph
    Infomax" <https://arxiv.org/abs/1911.08538>`_ (2019), learning user embeddings (the
    personas) from meta-path neighbourhoods of a user-item-entity graph.

    For each meta-path :math:`\Phi` (e.g. U-I-U, U-I-E-I-U through people) the model
    first gives every user the features of what it reaches along the path, then runs one
    GCN layer on the path's user-user adjacency :math:`\hat{A}^{\Phi}`:

    .. math::
        \mathbf{x}^{\Phi}_u = \mathbf{P}_U \mathbf{x}_u
            + \sum_{m} B^{\Phi}_{um} \, \mathbf{P}_{T} \mathbf{x}_m, \qquad
        \mathbf{H}^{\Phi} = \mathrm{PReLU}\big(\hat{A}^{\Phi} \mathbf{X}^{\Phi}
            \mathbf{W}^{\Phi} + \mathbf{b}^{\Phi}\big)

    where :math:`B^{\Phi}` is the row-normalised user → item (or user → entity) matrix of
    the path and :math:`\mathbf{P}_T` a projection per node type (applied to the mean of
    the raw features, which equals the mean of the projections and costs one matrix
    product per user instead of one per item or entity). This is how the
    LLM-initialised text features flow into user embeddings: users start from random
    :math:`\mathbf{x}_u \sim \mathcal{N}(0, \sigma^2 I)`, so all they know about content is
    the mean projected text embedding of their items and of the entities those items link
    to, smoothed over the users the meta-path connects them with.

    Semantic-level attention (as in HAN) fuses the paths,
    :math:`\beta_{\Phi} = \mathrm{softmax}_{\Phi}\big(\frac{1}{N}\sum_u \mathbf{q}^{\top}
    \tanh(\mathbf{W}_a \mathbf{h}^{\Phi}_u + \mathbf{b}_a)\big)` and
    :math:`\mathbf{z}_u = \sum_{\Phi} \beta_{\Phi} \mathbf{h}^{\Phi}_u`.

    What is fixed at inference, and why: in training (`forward`) the mean runs over the
    users of the step, as in HAN. At inference the mean over the users of a call would make
    a user's persona depend on who else is encoded with it (a session inferred alone and
    the same session among others differed by 8.7 %). So after training, :math:`\beta` is
    fitted once over every training user (`fit_semantic_weights`) and kept in the buffer
    `semantic_beta`, saved with the weights; `encode` (the personas written back, those of
    held-out users and of anonymous sessions) always fuses with it, and refuses before it
    is fitted. Everything else `encode` uses is per user: the meta-path rows of a user (or
    session) and what it reaches come from the training graph alone, item and entity
    features are standardised over the stored snapshot, and the random user features are
    seeded (a session's is their mean, zero).

    The DGI objective: the summary :math:`\mathbf{s} = \sigma(\frac{1}{N}\sum_u
    \mathbf{z}_u)`, a bilinear discriminator :math:`D(\mathbf{z}, \mathbf{s}) =
    \sigma(\mathbf{z}^{\top} \mathbf{W} \mathbf{s})` and

    .. math::
        \mathcal{L} = -\frac{1}{2N} \sum_u \big[\log D(\mathbf{z}_u, \mathbf{s})
            + \log(1 - D(\tilde{\mathbf{z}}_u, \mathbf{s}))\big]

    where :math:`\tilde{\mathbf{z}}` comes from the same structure with the users' input
    rows :math:`\mathbf{x}^{\Phi}_u` shuffled among users (the corruption: HDGI shuffles the
    target nodes' features, and here those are what each user reaches along the path).
    Shuffling the item or entity rows instead would be detectable from degree alone: real
    users reach popular items and hub entities far more often than a uniform shuffle
    hands out, and the discriminator learns popularity (observed: the loss fell to zero
    within ten epochs and the personas were worse than untrained ones).

    Why the corrupted pass should be fused with the real pass's :math:`\beta`
    (`shared_beta`, the default of `HDGIConfig`): with its own :math:`\beta`,
    from the mean attention score of the corrupted embeddings, every corrupted user gets
    one path mixture and every real user another, so the discriminator can tell them apart
    from the mixture alone, whoever the user. Training found that shortcut: the loss fell
    to ~1e-6 (films demo, in one step near epoch 55; books demo by epoch 56, never
    stopping on real Books), and on the books demo with a separate root weight per user the personas
    collapsed onto one direction (mean pairwise cosine 0.986, 0.80 of the attention on
    the catalog path) as on real data. With the shared :math:`\beta` the loss levels off
    at 0.015 (films) and 0.035 (books) and the books personas predict the next item
    better (probe top-10 hit 0.053 -> 0.063). The attention still goes to one path where
    one path is best: on both demos U-I-U alone gives better personas than any KG path
    alone or all together (`personas probe` on each ablation; BENCHMARKS.md, issue 21),
    and on a graph whose groups show only through the KG the KG path gets it all
    (tests/test_hdgi_kg.py).

    Args:
        in_channels (dict[str, int]): input feature size per node type (`User`, `Item`,
            `Entity`).
        hidden_channels (int): size of the user embeddings.
        metapaths (list[str]): the meta-path names, in the order `forward` gets them.
        attention_channels (int, optional): size of the semantic attention's hidden
            layer. (default: :obj:`128`)
        dropout (float, optional): dropout on the projected inputs. (default: :obj:`0.0`)
        path_norm (bool, optional): layer-normalise each path's embeddings before the
            attention. (default: :obj:`False`)
        path_loss (float, optional): weight of a DGI term per path beside the fused one.
            (default: :obj:`0.0`)
        shared_beta (bool, optional): fuse the corrupted pass with the real pass's beta.
            (default: :obj:`False`)
    """

    def __init__(
        self,
        in_channels: dict[str, int],
        hidden_channels: int,
        metapaths: list[str],
        attention_channels: int = 128,
        dropout: float = 0.0,
        path_norm: bool = False,
        path_loss: float = 0.0,
        shared_beta: bool = False,
    ) -> None:
        super().__init__()
        if not metapaths:
            raise ValueError("HDGI needs at least one meta-path")
        self.in_channels = dict(in_channels)
        self.hidden_channels = hidden_channels
        self.metapaths = list(metapaths)
        self.dropout = dropout
        self.path_norm = path_norm
        self.path_loss = path_loss
        self.shared_beta = shared_beta
        self.project = ModuleDict(
            {node_type: Linear(size, hidden_channels) for node_type, size in in_channels.items()}
        )
        self.convs = ModuleDict(
            {_key(name): Linear(hidden_channels, hidden_channels) for name in metapaths}
        )
        self.acts = ModuleDict({_key(name): PReLU(hidden_channels) for name in metapaths})
        self.attention = Linear(hidden_channels, attention_channels)
        self.query = Parameter(torch.empty(attention_channels))
        self.weight = Parameter(torch.empty(hidden_channels, hidden_channels))
        self.semantic_beta: Tensor
        self.register_buffer("semantic_beta", torch.full((len(self.metapaths),), float("nan")))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in [*self.project.values(), *self.convs.values(), self.attention]:
            module.reset_parameters()
        for act in self.acts.values():
            act.reset_parameters()
        torch.nn.init.normal_(self.query, std=self.query.numel() ** -0.5)
        torch.nn.init.xavier_uniform_(self.weight)
        self.semantic_beta.fill_(float("nan"))  # new weights: beta is fitted again

    def path_inputs(self, x_user: Tensor, paths: list[MetaPathInput]) -> list[Tensor]:
        """x^Phi per meta-path: each user's projected features plus the projected mean
        features of what it reaches along the path."""
        users = self._drop(self.project["User"](x_user))
        return [users + self._drop(self.project[p.mid_type](p.reached)) for p in paths]

    def path_embeddings(
        self, inputs: list[Tensor], paths: list[MetaPathInput], permutation: Tensor | None = None
    ) -> Tensor:
        """[paths, targets, hidden]: one GCN output per meta-path; `permutation` shuffles
        the source users' inputs (the corruption)."""
        outputs = []
        for sources, path in zip(inputs, paths, strict=True):
            if permutation is not None:
                sources = sources[permutation]
            key = _key(path.name)
            propagated = path.adjacency @ self.convs[key](sources)
            output = self.acts[key](propagated)
            if self.path_norm:
                output = torch.nn.functional.layer_norm(output, output.shape[-1:])
            outputs.append(output)
        return torch.stack(outputs)

    def attention_scores(self, per_path: Tensor) -> Tensor:
        """[paths, targets]: each target's semantic-attention score on each path."""
        return torch.tanh(self.attention(per_path)) @ self.query

    @staticmethod
    def fuse(per_path: Tensor, beta: Tensor) -> Tensor:
        """z [targets, hidden]: the paths' embeddings weighted by `beta` [paths]."""
        return (beta[:, None, None] * per_path).sum(dim=0)

    def path_outputs(self, x_user: Tensor, paths: list[MetaPathInput]) -> Tensor:
        """[paths, targets, hidden]: the meta-path embeddings `encode` fuses."""
        self._check(paths)
        return self.path_embeddings(self.path_inputs(x_user, paths), paths)

    def fit_semantic_weights(self, mean_scores: Tensor) -> None:
        """Fix beta for inference from each path's attention score averaged over every
        training user (`attention_scores`, summed over batches by the caller)."""
        self.semantic_beta.copy_(torch.softmax(mean_scores, dim=0))

    def encode(self, x_user: Tensor, paths: list[MetaPathInput]) -> Tensor:
        """The user embeddings (personas) of the paths' target users, fused with the fixed
        beta (see the class doc); `x_user` are the source users' input features."""
        return self.fuse(self.path_outputs(x_user, paths), self._fixed_beta())

    def forward(self, x_user: Tensor, paths: list[MetaPathInput], permutation: Tensor) -> Tensor:
        """The training loss of one step: DGI on the fused embeddings plus, weighted by
        `path_loss`, the mean DGI loss of each path's own embeddings against its own
        summary; `permutation` of the source users makes the corrupted pass, attention
        included (HAN's beta from the mean score of the step's targets, for the real and
        the corrupted pass each)."""
        self._check(paths)
        inputs = self.path_inputs(x_user, paths)
        pos = self.path_embeddings(inputs, paths)
        neg = self.path_embeddings(inputs, paths, permutation)
        beta = self._step_beta(pos)
        pos_z = self.fuse(pos, beta)
        neg_z = self.fuse(neg, beta if self.shared_beta else self._step_beta(neg))
        loss = self.loss(pos_z, neg_z, self.summary(pos_z))
        if self.path_loss:
            per_path = [self.loss(p, n, self.summary(p)) for p, n in zip(pos, neg, strict=True)]
            loss = loss + self.path_loss * torch.stack(per_path).mean()
        return loss

    def _step_beta(self, per_path: Tensor) -> Tensor:
        """Beta in a training step: from the mean score of the step's targets."""
        return torch.softmax(self.attention_scores(per_path).mean(dim=1), 0)

    @staticmethod
    def summary(z: Tensor) -> Tensor:
        return torch.sigmoid(z.mean(dim=0))

    def discriminate(self, z: Tensor, summary: Tensor, sigmoid: bool = True) -> Tensor:
        value = z @ (self.weight @ summary)
        return torch.sigmoid(value) if sigmoid else value

    def loss(self, pos_z: Tensor, neg_z: Tensor, summary: Tensor) -> Tensor:
        pos_loss = -torch.log(self.discriminate(pos_z, summary) + EPS).mean()
        neg_loss = -torch.log(1 - self.discriminate(neg_z, summary) + EPS).mean()
        return (pos_loss + neg_loss) / 2

    @property
    def fitted(self) -> bool:
        """Whether beta has been fixed for inference (`fit_semantic_weights`)."""
        return not bool(torch.isnan(self.semantic_beta).any())

    def semantic_weights(self) -> dict[str, float]:
        """The fixed beta per meta-path, as `encode` uses it."""
        return dict(zip(self.metapaths, self._fixed_beta().tolist(), strict=True))

    def _fixed_beta(self) -> Tensor:
        if not self.fitted:
            raise RuntimeError(
                "HDGI's semantic weights are not fitted: call fit_semantic_weights "
                "(kgstore.train.hdgi) after training, before encoding"
            )
        return self.semantic_beta

    def _check(self, paths: list[MetaPathInput]) -> None:
        names = [path.name for path in paths]
        if names != self.metapaths:
            raise ValueError(f"meta-paths {names} are not the model's {self.metapaths}")

    def _drop(self, x: Tensor) -> Tensor:
        return torch.nn.functional.dropout(x, self.dropout, self.training)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
            f"metapaths={self.metapaths})"
        )


def _key(name: str) -> str:
    """Meta-path names hold `:`; module names cannot."""
    return name.replace(":", "__")
