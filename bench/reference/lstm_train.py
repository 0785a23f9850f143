#!/usr/bin/env python3
"""PyTorch reference for `antiphon bench train`: the same 2x128 LSTM on one-hot inputs, batch and optimiser.

A character-level LSTM language model as Melody RNN trains it: one-hot inputs over `vocab` classes, `layers`
LSTM layers of `hidden` units (torch.nn.LSTM), a linear output layer, cross-entropy on the next token,
gradient norm clipped to 5, Adam with lr 1e-3. Random token batches; warm-up steps, then `steps` timed
optimiser steps. Prints one JSON line: {"tokens_per_s": ...}.
"""
import argparse
import json
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed optimiser steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed optimiser steps before")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=38)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in ("steps", "batch", "seq_len", "threads", "hidden", "layers", "vocab"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}={getattr(args, name)} must be at least 1")

    try:
        import torch
    except ImportError as e:
        print(f"the torch module does not import: {e}", file=sys.stderr)
        return 2
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(args.vocab, args.hidden, args.layers)
            self.out = nn.Linear(args.hidden, args.vocab)

        def forward(self, ids):  # ids [T, B] -> logits [T * B, vocab]
            x = nn.functional.one_hot(ids, args.vocab).float()
            y, _ = self.lstm(x)
            return self.out(y.reshape(-1, args.hidden))

    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    # A few batches of random tokens [T + 1, B]: inputs are the first T rows, targets the last T.
    batches = [torch.randint(args.vocab, (args.seq_len + 1, args.batch)) for _ in range(4)]

    def train_step(tokens):
        optimizer.zero_grad()
        logits = model(tokens[:-1])
        loss = nn.functional.cross_entropy(logits, tokens[1:].reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        return loss

    for k in range(args.warmup):
        train_step(batches[k % len(batches)])
    start = time.perf_counter()
    for k in range(args.steps):
        train_step(batches[k % len(batches)])
    seconds = time.perf_counter() - start
    tokens = args.steps * args.batch * args.seq_len
    print(json.dumps({"tokens_per_s": tokens / seconds, "seconds": seconds, "steps": args.steps,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
