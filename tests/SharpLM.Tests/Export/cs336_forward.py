"""Plain PyTorch CS336 Transformer LM, the peer of SharpLM's PyTorch and safetensors exports (PyTorchExportTests).

Reads one JSON request on stdin and prints one JSON answer:
  {"mode": "loss", "state_dict": PATH, "config": {...}, "ids": [...], "windows": [[start, length, first_scored], ...]}
      -> {"loss": mean NLL of the scored targets, "tokens": count, "dtypes": {key: dtype}}
         The weights come from torch.load (.pt) or from the safetensors reader below (.safetensors).
  {"mode": "init", "config": {...}, "seed": N, "pt": PATH, "safetensors": PATH}
      -> {"keys": [...]}: random CS336 weights saved with torch.save and as safetensors.
The forward pass is written out from the CS336 handout (RMSNorm, RoPE on adjacent pairs, causal attention, SwiGLU),
independent of SharpLM's code, with the architecture options of its ablations (section 7.3) and weight tying (7.5) as
config keys: "norm" pre|post|none, "final_norm", "position" rope|nope, "ffn" swiglu|silu, "tie_embeddings"; a missing
key means the handout's model.
"""
import json
import math
import struct
import sys

import torch

SAFETENSORS_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def read_safetensors(path):
    """From the format's specification: u64 little-endian header size, JSON header, then the raw tensor bytes."""
    with open(path, "rb") as f:
        data = f.read()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_size])
    start = 8 + header_size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(data[start + begin:start + end]), dtype=SAFETENSORS_DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"])
    return tensors


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, offset, blobs = {}, 0, []
    for name in names:
        blob = tensors[name].to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    encoded = json.dumps(header).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def rms_norm(x, gain, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * gain


def rope(x, theta):
    """Rotates each pair (x[2k], x[2k+1]) at position i by i * theta^(-2k/d): x is (batch, heads, seq, d)."""
    seq, d = x.shape[-2], x.shape[-1]
    inverse = theta ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = torch.arange(seq, dtype=torch.float64)[:, None] * inverse[None, :]
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


def options(config):
    return (config.get("norm", "pre"), config.get("final_norm", True), config.get("position", "rope"),
            config.get("ffn", "swiglu"), config.get("tie_embeddings", False))


def forward(w, config, ids):
    """(batch, seq) ids -> (batch, seq, vocab) logits, in float32."""
    heads, d_model = config["num_heads"], config["d_model"]
    norm, final_norm, position, ffn, tied = options(config)
    d_head = d_model // heads
    batch, seq = ids.shape
    x = w["token_embeddings.weight"][ids]
    causal = torch.ones(seq, seq, dtype=torch.bool).tril()
    for layer in range(config["num_layers"]):
        p = f"layers.{layer}."

        def attention(a):
            def split(name):
                return (a @ w[p + f"attn.{name}.weight"].T).view(batch, seq, heads, d_head).transpose(1, 2)

            q, k, v = split("q_proj"), split("k_proj"), split("v_proj")
            if position == "rope":
                q, k = rope(q, config["rope_theta"]), rope(k, config["rope_theta"])
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(d_head)
            attended = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1) @ v
            return attended.transpose(1, 2).reshape(batch, seq, d_model) @ w[p + "attn.output_proj.weight"].T

        def feed_forward(f):
            gate = f @ w[p + "ffn.w1.weight"].T
            silu = gate * torch.sigmoid(gate)
            hidden = silu * (f @ w[p + "ffn.w3.weight"].T) if ffn == "swiglu" else silu  # eq. 25 without w3
            return hidden @ w[p + "ffn.w2.weight"].T

        if norm == "pre":    # z = x + MHA(RMSNorm(x)), y = z + FFN(RMSNorm(z)) (eq. 15)
            x = x + attention(rms_norm(x, w[p + "ln1.weight"]))
            x = x + feed_forward(rms_norm(x, w[p + "ln2.weight"]))
        elif norm == "post":  # z = RMSNorm(x + MHA(x)), y = RMSNorm(z + FFN(z))
            x = rms_norm(x + attention(x), w[p + "ln1.weight"])
            x = rms_norm(x + feed_forward(x), w[p + "ln2.weight"])
        else:
            x = x + attention(x)
            x = x + feed_forward(x)
    if final_norm:
        x = rms_norm(x, w["ln_final.weight"])
    return x @ w["token_embeddings.weight" if tied else "lm_head.weight"].T


def loss(request):
    path = request["state_dict"]
    raw = read_safetensors(path) if path.endswith(".safetensors") else torch.load(path)
    weights = {key: tensor.to(torch.float32) for key, tensor in raw.items()}
    ids = torch.tensor(request["ids"], dtype=torch.long)
    total, count = 0.0, 0
    with torch.no_grad():
        for start, length, first_scored in request["windows"]:
            window = ids[start:start + length + 1]
            logits = forward(weights, request["config"], window[:-1].unsqueeze(0))[0]
            losses = torch.nn.functional.cross_entropy(logits.double(), window[1:], reduction="none")
            total += losses[first_scored:].sum().item()
            count += length - first_scored
    return {"loss": total / count, "tokens": count, "dtypes": {key: str(t.dtype) for key, t in raw.items()}}


def init(request):
    config = request["config"]
    generator = torch.Generator().manual_seed(request["seed"])
    d, ff, vocab = config["d_model"], config["d_ff"], config["vocab_size"]

    def normal(*shape):
        return torch.randn(*shape, generator=generator) * 0.2

    norm, final_norm, _, ffn, tied = options(config)
    weights = {"token_embeddings.weight": normal(vocab, d)}
    for layer in range(config["num_layers"]):
        p = f"layers.{layer}."
        if norm != "none":
            weights[p + "ln1.weight"] = 1 + 0.1 * normal(d)
        for name in ("q_proj", "k_proj", "v_proj", "output_proj"):
            weights[p + f"attn.{name}.weight"] = normal(d, d)
        if norm != "none":
            weights[p + "ln2.weight"] = 1 + 0.1 * normal(d)
        weights[p + "ffn.w1.weight"] = normal(ff, d)
        weights[p + "ffn.w2.weight"] = normal(d, ff)
        if ffn == "swiglu":
            weights[p + "ffn.w3.weight"] = normal(ff, d)
    if final_norm:
        weights["ln_final.weight"] = 1 + 0.1 * normal(d)
    if not tied:
        weights["lm_head.weight"] = normal(vocab, d)
    torch.save(weights, request["pt"])
    write_safetensors(request["safetensors"], weights)
    return {"keys": sorted(weights)}


if __name__ == "__main__":
    request = json.load(sys.stdin)
    answer = {"loss": loss, "init": init}[request["mode"]](request)
    json.dump(answer, sys.stdout)
