"""SASRec, the self-attentive sequential recommender."""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _Block(nn.Module):
    """One self-attention block of SASRec (Kang & McAuley 2018, §III-B/C), in the layout of
    the authors' code: queries from the layer-normed input, keys and values from the input,
    the query added back (Eq. 2 with the residual of §III-D), then a point-wise two-layer
    feed-forward network with its own layer norm, dropout and residual (Eq. 3)."""

    def __init__(self, channels: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.attention_norm = nn.LayerNorm(channels, eps=1e-8)
        self.query = nn.Linear(channels, channels)
        self.key_value = nn.Linear(channels, 2 * channels)
        self.forward_norm = nn.LayerNorm(channels, eps=1e-8)
        self.feed_forward = nn.Sequential(
            nn.Linear(channels, channels),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(channels, channels),
            nn.Dropout(dropout),
        )

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.LayerNorm):
                module.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        batch, length, channels = x.shape
        query = self.attention_norm(x)

        def split(t: Tensor) -> Tensor:
            return t.view(batch, length, self.heads, -1).transpose(1, 2)

        key, value = self.key_value(x).chunk(2, dim=-1)
        attended = F.scaled_dot_product_attention(
            split(self.query(query)),
            split(key),
            split(value),
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=True,
        )
        x = query + attended.transpose(1, 2).reshape(batch, length, channels)
        x = self.forward_norm(x)
        return x + self.feed_forward(x)


class _SoftmaxCrossEntropy(torch.autograd.Function):
    r"""Mean full-softmax cross-entropy of :math:`\mathbf{h}\mathbf{W}^\top` without ever
    holding the whole :obj:`[positions, items]` logit matrix: positions go through in
    chunks of about 12 MB of logits, only the log-sum-exp per position is kept, and the
    backward pass recomputes each chunk's logits. One more matmul than autograd's version,
    but no large buffers to allocate (and page-fault in) four times per batch and no extra
    passes over them: about twice as fast on a CPU, and memory no longer grows with
    positions times items."""

    CHUNK_BYTES = 12 * 2**20

    @staticmethod
    def chunks(h: Tensor, weight: Tensor) -> list[slice]:
        step = max(1, _SoftmaxCrossEntropy.CHUNK_BYTES // (4 * weight.size(0)))
        return [slice(start, start + step) for start in range(0, h.size(0), step)]

    @staticmethod
    def forward(ctx, h: Tensor, weight: Tensor, target: Tensor) -> Tensor:
        lse = torch.empty(h.size(0), dtype=h.dtype, device=h.device)
        total = h.new_zeros(())
        for rows in _SoftmaxCrossEntropy.chunks(h, weight):
            logits = F.linear(h[rows], weight)
            lse[rows] = torch.logsumexp(logits, dim=1)
            total += (lse[rows] - logits.gather(1, target[rows].unsqueeze(1)).squeeze(1)).sum()
        ctx.save_for_backward(h, weight, target, lse)
        return total / h.size(0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        h, weight, target, lse = ctx.saved_tensors
        grad_h, grad_weight = torch.empty_like(h), torch.zeros_like(weight)
        scale = grad / h.size(0)
        for rows in _SoftmaxCrossEntropy.chunks(h, weight):
            probs = F.linear(h[rows], weight).sub_(lse[rows].unsqueeze(1)).exp_()
            probs[torch.arange(probs.size(0), device=h.device), target[rows]] -= 1.0
            probs.mul_(scale)
            grad_h[rows] = probs @ weight
            grad_weight.addmm_(probs.t(), h[rows])
        return grad_h, grad_weight, None


class SASRec(nn.Module):
    r"""The Self-Attentive Sequential Recommendation model from the
    `"Self-Attentive Sequential Recommendation" <https://arxiv.org/abs/1808.09781>`_ paper
    (Kang & McAuley, ICDM 2018), with the optional user and item representations of the
    persona-driven retriever (PAPER.md).

    Items are numbered :obj:`1 … num_items`; :obj:`0` is padding. A sequence is padded on
    the *right*, so with causal attention (Eq. 2, :math:`Q_i` attends to :math:`K_j`,
    :math:`j \le i`) no real position ever sees padding: the outputs at real positions do
    not depend on how much padding follows, and a batch can be cut to its longest member.
    The input at position :math:`t` (Eq. 1) is

    .. math::
        \mathbf{x}_t = \sqrt{d}\,\mathbf{e}_{s_t} + \mathbf{p}_t + \mathbf{W}_u \mathbf{u}

    with :math:`\mathbf{e}` the item representation, :math:`\mathbf{p}_t` a learned position
    embedding (position 0 = the first item of the last :obj:`max_len`), and the optional
    user term — **this is where the user vector enters**: projected to :math:`d` and added
    to every position's input, so each block sees it at every step (no extra token, no
    shift of positions). After :obj:`num_blocks` blocks and a final layer norm, the hidden
    state :math:`\mathbf{F}_t` scores item :math:`i` as the next item by
    :math:`r_{i,t} = \mathbf{F}_t \cdot \mathbf{e}_i` (Eq. 6), with the *same* item
    representations as the input (the paper's shared embedding).

    What follows Kang & McAuley and what does not: Eq. 1-3 and 6 are theirs, in the layout
    of the authors' TensorFlow code (layer-normed queries, residuals, layer norm epsilon
    1e-8, a final layer norm, one item table for input and output). Three things differ:

    - padding is on the right; the authors pad on the left, so their last item always
      sits at the last learned position, where here the first item of the window sits at
      position 0;
    - the training loss (kgstore.train.sasrec) is full-softmax cross-entropy by default;
      the authors train the binary cross-entropy of Eq. 7 with one uniformly sampled
      negative per position, which is :obj:`loss = "bce"` with :obj:`num_negatives = 1`;
    - initialisation: the item, user and position embeddings are Xavier-normal, but the
      linear layers (attention, feed-forward, the user and item projections) keep
      PyTorch's default, weights and biases uniform in :math:`\pm 1/\sqrt{fan_{in}}`.
      The authors' code leaves TensorFlow's default, Xavier-uniform, on every weight
      matrix, embeddings included, and starts every bias at zero.

    Args:
        num_items (int): Number of items (indices :obj:`1 … num_items`).
        hidden_channels (int, optional): Size :math:`d` of every representation.
            (default: :obj:`64`)
        num_blocks (int, optional): Number of self-attention blocks. (default: :obj:`2`)
        num_heads (int, optional): Attention heads (must divide :obj:`hidden_channels`).
            (default: :obj:`1`)
        dropout (float, optional): Dropout on the inputs, attention weights and
            feed-forward layers. (default: :obj:`0.1`)
        max_len (int, optional): Longest sequence (number of learned positions); longer
            inputs are an error — keep the last :obj:`max_len` items. (default: :obj:`50`)
        num_users (int, optional): With a learned per-user embedding (the "random" user
            representation), the number of users; :obj:`forward` then takes user indices.
            (default: :obj:`None`)
        user_channels (int, optional): With a given user vector (LLM keywords or KG
            persona embeddings), its size; it is mapped to :math:`d` by a learned linear
            projection :math:`\mathbf{W}_u`. (default: :obj:`None`)
        item_features (torch.Tensor, optional): A frozen :obj:`[num_items + 1, f]` item
            feature matrix (stored text embeddings; row 0 for padding is ignored). The item
            representation is then a learned linear projection of it instead of a free
            embedding table. (default: :obj:`None`)
    """

    def __init__(
        self,
        num_items: int,
        hidden_channels: int = 64,
        num_blocks: int = 2,
        num_heads: int = 1,
        dropout: float = 0.1,
        max_len: int = 50,
        num_users: int | None = None,
        user_channels: int | None = None,
        item_features: Tensor | None = None,
    ) -> None:
        super().__init__()
        if num_users is not None and user_channels is not None:
            raise ValueError("give num_users (learned user table) or user_channels, not both")
        if hidden_channels % num_heads:
            raise ValueError(f"{num_heads} heads do not divide {hidden_channels} channels")
        if item_features is not None and item_features.size(0) != num_items + 1:
            raise ValueError(
                f"item_features has {item_features.size(0)} rows, expected num_items + 1 = "
                f"{num_items + 1} (row 0 is padding)"
            )
        self.num_items = num_items
        self.hidden_channels = hidden_channels
        self.max_len = max_len
        self.item_embedding: nn.Embedding | None = None
        self.item_projection: nn.Linear | None = None
        if item_features is None:
            self.item_embedding = nn.Embedding(num_items + 1, hidden_channels, padding_idx=0)
        else:
            self.register_buffer("item_features", item_features.detach().float().clone())
            self.item_projection = nn.Linear(item_features.size(1), hidden_channels)
        self.user_embedding = nn.Embedding(num_users, hidden_channels) if num_users else None
        self.user_projection = nn.Linear(user_channels, hidden_channels) if user_channels else None
        self.position_embedding = nn.Embedding(max_len, hidden_channels)
        self.input_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            _Block(hidden_channels, num_heads, dropout) for _ in range(num_blocks)
        )
        self.final_norm = nn.LayerNorm(hidden_channels, eps=1e-8)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-normal embeddings with a zero padding row; linear and layer-norm layers
        get PyTorch's default (the class docstring says how the authors' code differs)."""
        for module in (self.item_projection, self.user_projection, self.final_norm):
            if module is not None:
                module.reset_parameters()
        for block in self.blocks:
            block.reset_parameters()
        for embedding in (self.item_embedding, self.user_embedding, self.position_embedding):
            if embedding is not None:
                nn.init.xavier_normal_(embedding.weight)
        if self.item_embedding is not None:
            with torch.no_grad():
                self.item_embedding.weight[0].zero_()

    def item_representations(self) -> Tensor:
        """The :obj:`[num_items + 1, d]` item matrix :math:`\\mathbf{e}` shared by input and
        output (row 0 is padding)."""
        if self.item_embedding is not None:
            return self.item_embedding.weight
        return self.item_projection(self.item_features)

    def forward(self, seq: Tensor, user: Tensor | None = None) -> Tensor:
        r"""The hidden states :math:`\mathbf{F}` :obj:`[B, L, d]` of right-padded item
        sequences :obj:`seq` :obj:`[B, L]`, :math:`L \le` :obj:`max_len`.

        Args:
            seq (torch.Tensor): Item indices, 0 for padding after the last item.
            user (torch.Tensor, optional): User indices :obj:`[B]` (with :obj:`num_users`)
                or user vectors :obj:`[B, user_channels]` (with :obj:`user_channels`).
        """
        if seq.size(1) > self.max_len:
            raise ValueError(f"sequences of {seq.size(1)} items exceed max_len={self.max_len}")
        items = self.item_representations()
        x = F.embedding(seq, items) * math.sqrt(self.hidden_channels)
        x = x + self.position_embedding.weight[: seq.size(1)]
        user_term = self._user_term(user)
        if user_term is not None:
            x = x + user_term.unsqueeze(1)
        x = self.input_dropout(x)
        for block in self.blocks:
            x = block(x)
        return self.final_norm(x)

    def _user_term(self, user: Tensor | None) -> Tensor | None:
        """:math:`\\mathbf{W}_u \\mathbf{u}` (or the learned user row), None without a user
        representation."""
        layer = self.user_embedding if self.user_embedding is not None else self.user_projection
        if layer is None:
            return None
        if user is None:
            raise ValueError("this SASRec has a user representation: pass `user`")
        return layer(user)

    def score(self, h: Tensor, items: Tensor | None = None) -> Tensor:
        r"""Logits :math:`r_{i,t} = \mathbf{F}_t \cdot \mathbf{e}_i` (Eq. 6).

        Args:
            h (torch.Tensor): Hidden states :obj:`[..., d]`.
            items (torch.Tensor, optional): Item indices :obj:`[..., K]` to score, one set
                per row of :obj:`h`. Without them every item is scored: :obj:`[...,
                num_items + 1]`, column :math:`i` for item :math:`i` and column 0
                (padding) at :math:`-\infty`, so it never takes part in a softmax or a
                ranking.
        """
        weight = self.item_representations()
        if items is not None:
            return (F.embedding(items, weight) * h.unsqueeze(-2)).sum(-1)
        logits = F.linear(h, weight)
        logits[..., 0] = float("-inf")
        return logits

    def loss(self, h: Tensor, targets: Tensor, negatives: Tensor | None = None) -> Tensor:
        r"""The training objective at every non-padding position.

        Without :obj:`negatives`, full-softmax cross-entropy over all items (the default):
        :math:`-\log \mathrm{softmax}(r_{\cdot,t})_{o_t}`. With :obj:`negatives`
        :obj:`[..., S]` (item indices, one set per position), the paper's binary
        cross-entropy (Eq. 7): :math:`-\log\sigma(r_{o_t,t}) - \sum_j
        \log(1-\sigma(r_{j,t}))`, averaged over positions.

        Args:
            h (torch.Tensor): Hidden states :obj:`[B, L, d]`.
            targets (torch.Tensor): The next item :math:`o_t` per position :obj:`[B, L]`,
                0 where there is none (padding); those positions cost nothing.
        """
        real = targets != 0
        h, targets = h[real], targets[real]
        if negatives is None:
            # Column i - 1 of items 1 … n: the padding row takes no part.
            weight = self.item_representations()[1:]
            return _SoftmaxCrossEntropy.apply(h, weight, targets - 1)
        positive = self.score(h, targets.unsqueeze(-1))
        negative = self.score(h, negatives[real])
        logits = torch.cat([positive, negative], dim=-1)
        labels = torch.zeros_like(logits)
        labels[:, 0] = 1.0
        per_position = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
        return per_position.sum(-1).mean()

    def sampled_softmax_loss(self, h: Tensor, targets: Tensor, negatives: Tensor) -> Tensor:
        r"""Softmax cross-entropy over each position's target and the :obj:`[S]` items
        :obj:`negatives` shared by the whole batch (drawn uniformly, so no log-Q
        correction is needed: every item is as likely). A negative equal to a position's
        target is left out of that position's softmax. It costs :math:`S` item scores per
        position instead of the whole catalogue's, so a large catalogue no longer sets
        the epoch's time; it estimates full cross-entropy's gradient, not equals it.

        Args:
            h (torch.Tensor): Hidden states :obj:`[B, L, d]`.
            targets (torch.Tensor): The next item per position :obj:`[B, L]`, 0 for padding.
            negatives (torch.Tensor): Item indices :obj:`[S]`.
        """
        real = targets != 0
        h, targets = h[real], targets[real]
        weight = self.item_representations()
        positive = (h * weight[targets]).sum(-1, keepdim=True)
        negative = F.linear(h, weight[negatives])
        hit = negatives.unsqueeze(0) == targets.unsqueeze(1)
        logits = torch.cat([positive, negative.masked_fill(hit, float("-inf"))], dim=1)
        return F.cross_entropy(logits, torch.zeros_like(targets))

    def __repr__(self) -> str:
        item = "free" if self.item_embedding is not None else "projected features"
        user = (
            "learned table"
            if self.user_embedding is not None
            else "projected vector"
            if self.user_projection is not None
            else "none"
        )
        return (
            f"{self.__class__.__name__}({self.num_items}, {self.hidden_channels}, "
            f"blocks={len(self.blocks)}, heads={self.blocks[0].heads if self.blocks else 0}, "
            f"max_len={self.max_len}, items={item}, user={user})"
        )
