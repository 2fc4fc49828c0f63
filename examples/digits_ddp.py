"""The digits demo, data-parallel: each MPI rank trains on its share of every batch, and
DistributedDataParallel averages the gradients.

    python -m retrograd.distributed.run -n 2 examples/digits_ddp.py [--epochs 15]

As in PyTorch: init_process_group, a DistributedSampler per epoch, the model wrapped in
DistributedDataParallel, and rank 0 evaluating and printing the test accuracy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from digits import Net, evaluate, load_data

import retrograd as torch
import retrograd.distributed as dist
from retrograd.nn.parallel import DistributedDataParallel as DDP
from retrograd.utils.data.distributed import DistributedSampler

F = torch.nn.functional


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch size")
    args = parser.parse_args()

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)  # ranks start apart; DDP broadcasts rank 0's weights
    train_set, test_set = load_data(seed=0)
    sampler = DistributedSampler(train_set, shuffle=True, seed=0)
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size // world,
                                         sampler=sampler)
    model = DDP(Net())
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
    if rank == 0:
        test_loader = torch.utils.data.DataLoader(test_set, batch_size=256)
        _, acc = evaluate(model.module, test_loader)
        print(f"{world} ranks: test accuracy {acc:.2%} "
              f"({time.perf_counter() - start:.1f} s of training)")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
