#!/usr/bin/python3
"""PyTorch's forward pass, measured as `shiftbench bench` measures its own (tools/speed-table.sh runs both).

One random batch of 224x224 images, one warm-up pass, then whole batches until at least IMAGES images, timed
on the wall clock; prints one line: MODEL BATCH IMAGES THREADS PRECISION IMAGES_PER_SECOND. Networks are
torchvision's with random weights: speed does not depend on the weights' values.
Usage: /usr/bin/python3 tools/speed-pytorch.py MODEL BATCH IMAGES THREADS [fp32|bf16]
"""
import sys
import time

import torch
import torchvision


def main():
    model_name, batch, images, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    precision = sys.argv[5] if len(sys.argv) > 5 else "fp32"
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, model_name)().eval().to(dtype)  # random weights
    x = torch.randn(batch, 3, 224, 224, dtype=dtype)
    with torch.inference_mode():
        model(x)  # warm-up: first-call allocations and kernel selection
        start = time.perf_counter()
        done = 0
        while done < images:
            model(x)
            done += batch
        seconds = time.perf_counter() - start
    print(f"{model_name} {batch} {done} {torch.get_num_threads()} {precision} {done / seconds:.1f}")


if __name__ == "__main__":
    main()
