"""Recording a BERT-base-sized transformer (issue 21): 90% global magnitude pruning, then five
snapshots with 10% regrowth (SET-style: the weakest 10% of each matrix's edges are dropped and
as many regrown at random), recorded through the Recorder while a training loop runs.

    nice -n 10 python benchmarks/transformer_recording.py --whole       # all of BERT-base
    nice -n 10 python benchmarks/transformer_recording.py --blocks-recorded 4   # a subset
    nice -n 10 python benchmarks/transformer_recording.py --layers 'encoder.layer.0.*'
    python benchmarks/transformer_recording.py --hidden 256 --blocks 4   # a quick, smaller run

Prints, each beside a baseline computed in the same run:

* time per snapshot: wall time from ``snapshot()`` until the snapshot is in the database, vs
  computing the same edge lists in process (``ModelGraph.capture`` + ``edges``, no database);
* bytes per stored relationship: growth of the store (after a clean restart) per SYNAPSE;
* training slowdown: the same training loop (steps + regrowth) with the Recorder, vs without.

Uses the managed server of SPARSETOPO_HOME (or NEO4J_*); the run ``bench-bert`` is deleted
afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import torch
from transformers import BertConfig, BertModel

from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.ingest.extract import ModelGraph
from sparsetopo.ingest.recorder import Recorder
from sparsetopo.server.process import ManagedServer

RUN = "bench-bert"


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def build(hidden: int, blocks: int, seed: int = 0) -> BertModel:
    torch.manual_seed(seed)
    heads = max(1, hidden // 64)
    config = BertConfig(hidden_size=hidden, num_hidden_layers=blocks, num_attention_heads=heads,
                        intermediate_size=4 * hidden)
    return BertModel(config)


def matrices(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    return [p for n, p in model.named_parameters() if p.dim() == 2
            and "position" not in n and "token_type" not in n]


def prune_global(model: torch.nn.Module, sparsity: float) -> list[torch.Tensor]:
    mats = matrices(model)
    sample = torch.cat([p.detach().abs().flatten()[torch.randperm(p.numel())[:100_000]]
                        for p in mats])
    threshold = torch.quantile(sample, sparsity)
    masks = []
    with torch.no_grad():
        for p in mats:
            mask = p.abs() > threshold
            p.mul_(mask)
            masks.append(mask)
    return masks


def regrow(model: torch.nn.Module, masks: list[torch.Tensor], fraction: float) -> None:
    """Drop the weakest `fraction` of each matrix's edges and regrow as many at random."""
    with torch.no_grad():
        for p, mask in zip(matrices(model), masks, strict=True):
            alive = mask.nonzero(as_tuple=True)
            k = int(fraction * len(alive[0]))
            if k == 0:
                continue
            weakest = p[alive].abs().topk(k, largest=False).indices
            mask[alive[0][weakest], alive[1][weakest]] = False
            dead = (~mask).nonzero(as_tuple=True)
            pick = torch.randperm(len(dead[0]))[:k]
            mask[dead[0][pick], dead[1][pick]] = True
            p.mul_(mask)
            p[dead[0][pick], dead[1][pick]] = 0.01 * torch.randn(k)


def train_steps(model: BertModel, masks: list[torch.Tensor], steps: int, opt) -> None:
    vocab = model.config.vocab_size
    for _ in range(steps):
        ids = torch.randint(0, vocab, (2, 16))
        loss = model(input_ids=ids).last_hidden_state.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for p, mask in zip(matrices(model), masks, strict=True):
                p.mul_(mask)


def period(model, masks, opt, args) -> None:
    train_steps(model, masks, args.steps, opt)
    regrow(model, masks, 0.1)


def store_bytes() -> int | None:
    if not resolve_connection(start=False).managed:
        return None
    server = ManagedServer()
    server.stop()
    server.start()
    path = server.data_dir / "databases" / "neo4j"
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--blocks", type=int, default=12)
    parser.add_argument("--snapshots", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2, help="training steps between snapshots")
    parser.add_argument("--layers", action="append", default=None,
                        help="record only these layers (glob on parameter names, repeatable)")
    parser.add_argument("--whole", action="store_true",
                        help="record every layer of the model (the default without --layers "
                        "or --blocks-recorded; ~11M edges per snapshot for BERT-base at 90%%)")
    parser.add_argument("--blocks-recorded", type=int, default=None, metavar="N",
                        help="record only the first N encoder blocks (the word embedding alone "
                        "is ~2.3M edges, as much as two blocks)")
    args = parser.parse_args()
    if args.whole and (args.layers or args.blocks_recorded is not None):
        parser.error("--whole records every layer; leave out --layers / --blocks-recorded")
    if args.blocks_recorded is not None:
        if not 1 <= args.blocks_recorded <= args.blocks:
            parser.error(f"--blocks-recorded must be between 1 and --blocks ({args.blocks})")
        args.layers = (args.layers or []) + [
            f"encoder.layer.{i}.*" for i in range(args.blocks_recorded)]
    note(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")

    driver, _ = open_driver(resolve_connection())
    delete_run(driver, RUN)
    before = store_bytes()

    note("baseline: the training loop without the Recorder")
    model = build(args.hidden, args.blocks)
    masks = prune_global(model, 0.9)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(args.snapshots):
        period(model, masks, opt, args)
    plain = time.perf_counter() - start

    note(f"baseline took {plain:.1f} s; now the same loop with the Recorder")
    model = build(args.hidden, args.blocks)
    masks = prune_global(model, 0.9)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    rec = Recorder(model, run=RUN, strategy="magnitude+regrowth", layers=args.layers,
                   replace=True)
    setup = time.perf_counter() - t0
    n_weights = sum(s.n_in * s.n_out for s in rec.graph.architecture.layers
                    if s.role != "expand")
    start = time.perf_counter()
    first_snapshot_at = time.perf_counter()
    for step in range(args.snapshots):
        period(model, masks, opt, args)
        if step == 0:
            first_snapshot_at = time.perf_counter()
        rec.snapshot(step)
        note(f"snapshot {step} handed over")
    recorded = time.perf_counter() - start
    note(f"training done; {rec.pending_edges():,} relationships still to write")
    rec.flush()
    note(f"all snapshots written ({time.perf_counter() - first_snapshot_at:.0f} s after the "
         "first snapshot)")
    drained = time.perf_counter() - first_snapshot_at
    rec.close()

    # baseline of the snapshot time: the same edge lists computed in process
    graph = ModelGraph(model, layers=args.layers)
    t0 = time.perf_counter()
    layers, _ = graph.edges(graph.capture())
    in_process = time.perf_counter() - t0
    edges_last = sum(len(e) for e in layers.values())

    records, _, _ = driver.execute_query(
        "MATCH (r:Run {name: $run}) MATCH (n:Neuron {run_id: r.run_id})-[s:SYNAPSE]->() "
        "RETURN count(s) AS n", run=RUN)
    rels = int(records[0]["n"])
    after = store_bytes()
    per_snapshot = drained / args.snapshots
    what = ("all" if not args.layers else
            f"encoder blocks 0-{args.blocks_recorded - 1}"
            if args.blocks_recorded is not None else ", ".join(args.layers))
    print(f"model: BERT {args.blocks} x {args.hidden}, {len(rec.graph.architecture.layers)} layers "
          f"recorded ({what}), "
          f"{n_weights:,} weights, {edges_last:,} edges in the last snapshot; "
          f"tracing + run creation {setup:.1f} s")
    print(f"time per snapshot: {per_snapshot:.1f} s (to the database) vs {in_process:.2f} s "
          f"in process = {per_snapshot / in_process:.0f}x")
    if after is not None and before is not None:
        grown = after - before
        print(f"bytes per stored relationship: {grown / max(rels, 1):.0f} "
              f"({grown / 1e6:.0f} MB for {rels:,} SYNAPSEs)")
    print(f"training slowdown: {recorded:.1f} s with the Recorder vs {plain:.1f} s without = "
          f"{recorded / plain:.2f}x ({args.snapshots} periods of {args.steps} steps + regrowth; "
          f"snapshot() blocked {sum(rec.blocking_seconds):.2f} s in all)")
    print(f"load average (1, 5, 15 min) at the end: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    delete_run(driver, RUN)
    driver.close()


if __name__ == "__main__":
    main()
