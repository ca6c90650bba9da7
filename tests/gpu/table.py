"""Turns run.sh's JSON lines into the markdown table that goes into the README."""
import json, sys

bench = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
checks = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
gpu = next((c["value"] for c in checks if c.get("check") == "gpu"), "unknown")
print(f"GPU: {gpu}\n")
print("| model | size | steps | batch | UNet I/O | CUDA graph | s/step | s/image | images/min | ONNX Runtime share | peak RSS MiB |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for b in bench:
    per_image = b["seconds_per_image"]
    print(f"| {b['model']} | {b['width']}x{b['height']} | {b['steps']} | {b['images_per_run']} | "
          f"{'device steps' if b.get('device_steps') else 'bound' if b.get('io_binding') else 'plain'} | {'on' if b.get('cuda_graph') else 'off'} | "
          f"{b['seconds_per_step']:.4f} | {per_image:.4f} | {60 / per_image:.1f} | "
          f"{b['onnx_runtime_share']:.3f} | {b['peak_working_set_mb']:.0f} |")
if len(sys.argv) > 3:
    rounds = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
    if rounds:
        print()
        print("| model | size | steps | concurrent requests | one after another (images/min) | one UNet batch (images/min) | speed-up |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for r in rounds:
            print(f"| {r['model']} | {r['width']}x{r['height']} | {r['steps']} | {r['concurrency']} | "
                  f"{r['sequential_images_per_minute']} | {r['batched_images_per_minute']} | {r['speedup']} |")
print()
print("| check | result |")
print("| --- | --- |")
for c in checks:
    if c.get("check") == "gpu":
        continue
    rest = {k: v for k, v in c.items() if k != "check"}
    print(f"| {c['check']} | {', '.join(f'{k} {v}' for k, v in rest.items())} |")
