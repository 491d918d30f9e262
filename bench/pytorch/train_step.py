"""The PyTorch peer of SharpLM's training-step benchmark: the CS336 Transformer LM written the usual way.

Same architecture and optimizer settings as SharpLM's TinyStories bench (vocab 10000, context 256, d_model 512,
4 layers, 16 heads, d_ff 1344, RoPE theta 10000, pre-norm RMSNorm, SwiGLU, untied LM head; AdamW lr 1e-3,
betas (0.9, 0.95), eps 1e-8, weight decay 0.1; gradient clipping at 1.0), batch 16 x 256, manual causal attention.
Prints one JSON line: the median milliseconds per step over the timed steps.

    python3 bench/pytorch/train_step.py [--threads 2] [--steps 3] [--autocast-bf16]
"""
import argparse
import json
import math
import statistics
import time

import torch
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return (x * self.weight).to(dtype)


def rope_tables(d_head, context, theta):
    inverse = theta ** (-torch.arange(0, d_head, 2, dtype=torch.float64) / d_head)
    angles = torch.outer(torch.arange(context, dtype=torch.float64), inverse)
    return angles.cos().float(), angles.sin().float()


def rotate(x, cos, sin):
    # Adjacent pairs (x0, x1), (x2, x3), ... as CS336's RoPE rotates them.
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.output_proj = nn.Linear(d, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        q, k = rotate(q, cos[:t], sin[:t]), rotate(k, cos[:t], sin[:t])
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        scores = scores.masked_fill(~mask[:t, :t], float("-inf"))
        heads = scores.softmax(-1) @ v
        return self.output_proj(heads.transpose(1, 2).reshape(b, t, d))


class SwiGLU(nn.Module):
    def __init__(self, d, d_ff):
        super().__init__()
        self.w1 = nn.Linear(d, d_ff, bias=False)
        self.w2 = nn.Linear(d_ff, d, bias=False)
        self.w3 = nn.Linear(d, d_ff, bias=False)

    def forward(self, x):
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, d, heads, d_ff):
        super().__init__()
        self.ln1, self.attn = RMSNorm(d), Attention(d, heads)
        self.ln2, self.ffn = RMSNorm(d), SwiGLU(d, d_ff)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.ln1(x), cos, sin, mask)
        return x + self.ffn(self.ln2(x))


class TransformerLM(nn.Module):
    def __init__(self, vocab, context, d, layers, heads, d_ff, theta):
        super().__init__()
        self.token_embeddings = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, heads, d_ff) for _ in range(layers))
        self.ln_final = RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        cos, sin = rope_tables(d // heads, context, theta)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", torch.ones(context, context, dtype=torch.bool).tril(), persistent=False)

    def forward(self, ids):
        x = self.token_embeddings(ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        return self.lm_head(self.ln_final(x))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="timed steps, after one warm-up step")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--autocast-bf16", action="store_true", help="torch.autocast('cpu', torch.bfloat16) around forward and loss")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vocab, context = 10_000, 256
    model = TransformerLM(vocab, context, 512, 4, 16, 1344, 10_000.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    ids = torch.randint(vocab, (args.batch_size, context))
    targets = torch.randint(vocab, (args.batch_size, context))
    times = []
    for step in range(1 + args.steps):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.autocast_bf16):
            logits = model(ids)
            loss = nn.functional.cross_entropy(logits.float().view(-1, vocab), targets.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step > 0:
            times.append(time.perf_counter() - start)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "autocast_bf16": args.autocast_bf16,
                      "batch_size": args.batch_size, "step_ms": 1e3 * statistics.median(times), "loss": loss.item()}))


if __name__ == "__main__":
    main()
