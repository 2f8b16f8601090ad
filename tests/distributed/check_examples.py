#!/usr/bin/env python3
"""tests/distributed/check_examples.py WHAT ROOT — the static checks of docs/distributed.md's
examples: kubernetes (the manifests parse, Indexed, completions = DANESCAN_SHARDS, --shard auto,
shared volume), slurm (bash -n, #SBATCH lines before the first command, one plain --array range),
dockerfile (debian:bookworm, packages from tests/install-deps itself, cmake --install, RUN lines
parse)."""
import re, subprocess, sys
import yaml

what, root = sys.argv[1], sys.argv[2]
bad = []

def check(ok, message):
    if not ok:
        bad.append(message)

if what == "kubernetes":
    docs = list(yaml.safe_load_all(open(f"{root}/examples/kubernetes/scan-job.yaml")))
    merge = list(yaml.safe_load_all(open(f"{root}/examples/kubernetes/merge-job.yaml")))
    jobs = [d for d in docs if d["kind"] == "Job"]
    claims = [d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"]
    check(len(jobs) == 1, "scan-job.yaml: one Job expected")
    job = jobs[0]["spec"]
    pod = job["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    command = " ".join(container["command"])
    check(job.get("completionMode") == "Indexed", "completionMode is not Indexed")
    check(str(job.get("completions")) == env.get("DANESCAN_SHARDS"),
          f"completions {job.get('completions')} != DANESCAN_SHARDS {env.get('DANESCAN_SHARDS')}")
    check(1 <= job.get("parallelism", 1) <= job["completions"], "parallelism outside 1..completions")
    check("--shard auto" in command, "the scan does not use --shard auto")
    check("$JOB_COMPLETION_INDEX" in command, "the shard database is not named by JOB_COMPLETION_INDEX")
    check(pod.get("restartPolicy") in ("Never", "OnFailure"), "a Job needs restartPolicy Never or OnFailure")
    claim = pod["volumes"][0]["persistentVolumeClaim"]["claimName"]
    check(claim in claims, f"claim {claim} not defined")
    mpod = merge[0]["spec"]["template"]["spec"]
    check(mpod["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim, "merge Job mounts another volume")
    mcommand = " ".join(mpod["containers"][0]["command"])
    shard_dir = re.search(r'"(/\S+)/shard-\$JOB_COMPLETION_INDEX\.sqlite"', command)
    check(shard_dir and f"{shard_dir.group(1)}/shard-*.sqlite" in mcommand, "merge does not read the scan's shard path")
    check("danescan merge" in mcommand and "danescan report" in mcommand, "merge Job lacks merge or report")
elif what == "slurm":
    path = f"{root}/examples/slurm/scan-array.sbatch"
    check(subprocess.run(["bash", "-n", path]).returncode == 0, "bash -n fails")
    lines = open(path).read().splitlines()
    first_command = next(i for i, l in enumerate(lines) if l.strip() and not l.startswith("#"))
    sbatch = [i for i, l in enumerate(lines) if l.startswith("#SBATCH")]
    check(sbatch and max(sbatch) < first_command, "an #SBATCH line after the first command is ignored by Slurm")
    arrays = [lines[i] for i in sbatch if "--array" in lines[i]]
    check(len(arrays) == 1 and re.fullmatch(r"#SBATCH --array=\d+-\d+(%\d+)?", arrays[0]), f"--array not one plain range: {arrays}")
    check(any("--shard auto" in l for l in lines), "the script does not use --shard auto")
elif what == "dockerfile":
    text = open(f"{root}/Dockerfile").read().replace("\\\n", " ")
    instructions = [l.strip() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    check(instructions[0] == "FROM debian:bookworm", f"first instruction {instructions[0]!r}")
    runs = [l[4:] for l in instructions if l.startswith("RUN ")]
    check(any(l.startswith("COPY tests/install-deps ") for l in instructions), "tests/install-deps is not copied")
    check(any("tests/install-deps" in r for r in runs), "tests/install-deps is not run: a second package list could drift")
    check(not any("apt-get install" in r for r in runs), "packages installed outside tests/install-deps")
    check(any("cmake --install" in r for r in runs), "no cmake --install")
    for r in runs:
        check(subprocess.run(["bash", "-n", "-c", r]).returncode == 0, f"RUN does not parse: {r}")
else:
    sys.exit(f"unknown check {what}")
for b in bad:
    print(f"check_examples {what}: {b}", file=sys.stderr)
print(f"check_examples {what}: {len(bad)} problems")
sys.exit(1 if bad else 0)
