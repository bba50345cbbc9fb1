"""Every surface of the deblur options follows the C++ option structs: the C API's _init, the
CLI's --help (deblur and benchmark) and the Python binding read their defaults from them, so a
default changed in include/diffevent/diffusion/options.hpp changes everywhere at once. Usage:
options_follow_test.py OPTIONS_DUMP DIFFEVENT_CLI LIBDIFFEVENT_C SOURCE_DIR [python|no-python]"""
import json
import os
import re
import subprocess
import sys

dump, cli, capi, src = sys.argv[1:5]
with_python = len(sys.argv) < 6 or sys.argv[5] == "python"
failures = []


def check(what, got, want, rel=1e-12):
    if isinstance(want, float) or isinstance(got, float):
        ok = abs(float(got) - float(want)) <= rel * max(1.0, abs(float(want)))
    else:
        ok = got == want
    if not ok:
        failures.append(f"{what}: {got!r}, the library's default is {want!r}")


rows = [json.loads(line) for line in subprocess.run([dump], check=True, capture_output=True,
                                                    text=True).stdout.splitlines()]
for row in rows:
    for k, v in row["library"].items():
        check(f"C API _init (preset {row['preset']}) {k}", row["c_api"][k], v)
lib = next(r["library"] for r in rows if r["library"]["preset_is_default"])

# The CLI: every default --help shows is the struct's.
flags = {"--steps": lib["steps"], "--s": lib["s"], "--s-r": lib["s_r"],
         "--lambda-tv": lib["lambda_tv"], "--lambda-l1": lib["lambda_l1"],
         "--start": lib["start"], "--threshold-sigma": lib["threshold_sigma"],
         "--start-threshold": lib["start_threshold"], "--robust-residual": lib["robust_residual"],
         "--start-threshold-max": lib["start_threshold_max"], "--guided-radius": lib["guided_radius"],
         "--guided-eps": lib["guided_eps"]}
names = {"--enhance": "guided" if lib["enhancer_guided"] else "identity",
         "--integral": "ramp" if lib["integral_ramp"] else "step", "--preset": "balanced"}
# (The CLI has no default threshold: the file's statement, else an estimate.)
for command, extra in (("deblur", {"--seed": lib["seed"]}),
                       ("benchmark", {})):
    text = subprocess.run([cli, command, "--help"], check=True, capture_output=True,
                          text=True).stdout
    shown = {}
    for line in text.splitlines():
        m = re.match(r"\s+(-\S+)\s+[A-Z]+=(\S+)", line)
        if m:
            shown[m.group(1)] = m.group(2)
    for flag, want in {**flags, **extra}.items():
        if flag not in shown:
            failures.append(f"{command} --help shows no default for {flag}")
        else:
            # --help prints six significant digits
            check(f"{command} --help {flag}", float(shown[flag]), float(want), rel=5e-6)
    for flag, want in names.items():
        key = "-p,--preset" if flag == "--preset" else flag
        check(f"{command} --help {flag}", shown.get(key), want)

# The Python binding: its defaults are _init's.
rows_py = rows if with_python else []
env = dict(os.environ, DIFFEVENT_LIBRARY=capi, PYTHONPATH=os.path.join(src, "bindings", "python"))
code = ("import json, diffevent; print(json.dumps({p: diffevent.deblur_defaults(p) "
        "for p in ('fast', 'balanced', 'best', 'paper', 'noisy')}))")
py = {} if not with_python else json.loads(subprocess.run([sys.executable, "-B", "-c", code], check=True, capture_output=True,
                               text=True, env=env).stdout)
for row in rows_py:
    name = ("fast", "balanced", "best", "paper", "noisy")[row["preset"]]
    for k in ("steps", "s", "s_r", "lambda_tv", "lambda_l1", "min_prior_variance", "start", "eta",
              "threshold_sigma", "start_threshold", "robust_residual", "start_threshold_max", "samples", "antithetic", "residual_prior", "guided_radius",
              "guided_eps"):
        check(f"Python deblur_defaults('{name}')[{k}]", py[name][k], row["library"][k])

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("options follow the library: C API (5 presets), CLI (deblur, benchmark)" +
      (", Python" if with_python else " (Python not checked in this build)"))
