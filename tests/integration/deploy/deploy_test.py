#!/usr/bin/env python3
"""The Kubernetes manifests and the Dockerfile in deploy/ are valid and refer to what exists.

- Every manifest passes PyPI's kubernetes-validate (the Kubernetes schemas, strict), and a
  manifest broken on purpose fails it.
- The ConfigMap's queries are the files in queries/; its sidestream.yaml is accepted by
  `sidestream serve`, which starts with it (on the embedded broker), runs the queries, and
  answers the probes' paths with 200.
- Each sidestream container mounts that config where its args and queries.file point, exposes
  the configured port under the probes' port name, sets resource requests, and its pod's
  terminationGracePeriodSeconds is above shutdown.timeout.ms.
- The Dockerfile's runtime stage installs the package of every shared library the binary
  needs (readelf's NEEDED entries), except those debian:12-slim already has.
  `docker build` itself runs only with SIDESTREAM_DOCKER_BUILD=1 and a Docker daemon.
  deploy_test.py SIDESTREAM REPO_ROOT
Exit 0 pass, 1 fail, 77 skipped (kubernetes-validate could not be installed from PyPI)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                     "sidestream", "kubernetes-validate")
# Shared libraries of the sanitizer builds that tests use; a release build has none of them.
SANITIZER_PACKAGES = {"libasan8", "libubsan1", "liblsan0", "libtsan2"}
# Libraries that debian:12-slim already has (dpkg -l in the image: essential packages and
# apt's own dependencies).
SLIM_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libuuid1", "libzstd1",
                 "liblz4-1", "libgmp10", "libsystemd0", "libselinux1", "libpcre2-8-0"}


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def install_validator():
    if not os.path.isdir(os.path.join(CACHE, "kubernetes_validate")):
        result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", CACHE,
                                 "kubernetes-validate==1.37.0"], capture_output=True, text=True)
        if result.returncode != 0:
            print("SKIPPED: kubernetes-validate could not be installed from PyPI: "
                  + result.stderr.strip().splitlines()[-1:][0] if result.stderr.strip() else "")
            sys.exit(77)


def validate(path):
    env = dict(os.environ, PYTHONPATH=CACHE)
    return subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet",
                           path], capture_output=True, text=True, env=env)


def check_schemas(manifests):
    for path in manifests:
        result = validate(path)
        if result.returncode != 0:
            fail(f"{path} does not validate:\n{result.stdout}{result.stderr}")
        print(f"ok {os.path.basename(path)} validates against the Kubernetes schemas")
    # The validator must be able to fail: a string containerPort is refused.
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as broken:
        text = open([m for m in manifests if m.endswith("pod.yaml")][0]).read()
        broken.write(text.replace("containerPort: 8088", 'containerPort: "8088"'))
    result = validate(broken.name)
    os.unlink(broken.name)
    if result.returncode == 0:
        fail("kubernetes-validate accepted a string containerPort: it checks nothing")
    print("ok a broken manifest fails validation")


def documents(manifests):
    for path in manifests:
        for document in yaml.safe_load_all(open(path)):
            if document:
                yield os.path.basename(path), document


def pod_specs(docs):
    for name, document in docs:
        if document["kind"] == "Pod":
            yield name, document["spec"]
        elif document["kind"] in ("StatefulSet", "Deployment"):
            yield name, document["spec"]["template"]["spec"]


def check_workloads(docs, config_map, settings):
    config_files = set(config_map["data"])
    checked = 0
    for name, spec in pod_specs(docs):
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            if not container["image"].startswith("sidestream"):
                continue
            where = f"{name}: container {container['name']}"
            args = container["args"]
            config_path = args[args.index("--config") + 1]
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            config_dir, config_file = os.path.split(config_path)
            volume = volumes.get(mounts.get(config_dir, ""), {})
            if volume.get("configMap", {}).get("name") != config_map["metadata"]["name"]:
                fail(f"{where}: --config {config_path} is not in the ConfigMap's mount")
            if config_file not in config_files:
                fail(f"{where}: the ConfigMap has no {config_file}")
            queries_dir, queries_file = os.path.split(settings["queries.file"])
            if queries_dir != config_dir or queries_file not in config_files:
                fail(f"{where}: queries.file {settings['queries.file']} is not in the ConfigMap")
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            if ports.get("http") != settings["port"]:
                fail(f"{where}: port 'http' is {ports.get('http')}, the config says "
                     f"{settings['port']}")
            for probe, path in (("livenessProbe", "/chc/live"), ("readinessProbe", "/chc/ready")):
                get = container[probe]["httpGet"]
                if get["path"] != path or get["port"] not in ports:
                    fail(f"{where}: {probe} is {get}, expected {path} on a declared port")
            if not container.get("resources", {}).get("requests"):
                fail(f"{where}: no resource requests")
            grace_ms = spec.get("terminationGracePeriodSeconds", 30) * 1000
            if grace_ms <= settings["shutdown.timeout.ms"]:
                fail(f"{where}: terminationGracePeriodSeconds ({grace_ms} ms) is not above "
                     f"shutdown.timeout.ms ({settings['shutdown.timeout.ms']})")
            checked += 1
            print(f"ok {where}: config, queries, port, probes, requests and grace period agree")
    if checked < 2:
        fail(f"expected a sidestream container in the pod and the StatefulSet, found {checked}")


def check_serve(sidestream, config_map, work):
    """serve starts with the ConfigMap's files, runs its queries and answers the probes."""
    for key, text in config_map["data"].items():
        open(os.path.join(work, key), "w").write(text)
    out = open(os.path.join(work, "serve.out"), "w+")
    err = open(os.path.join(work, "serve.err"), "w+")
    serve = subprocess.Popen(
        [sidestream, "serve", "--config", os.path.join(work, "sidestream.yaml"),
         "--host", "127.0.0.1", "--port", "0", "--set", "bootstrap.servers=",
         "--set", "queries.file=" + os.path.join(work, "queries.sql")], stdout=out, stderr=err)
    try:
        deadline = time.time() + 60
        while True:
            found = re.search(r"listening on (http://\S+)", open(out.name).read())
            if found:
                break
            if serve.poll() is not None or time.time() > deadline:
                fail("serve did not start with the ConfigMap's config: "
                     + open(err.name).read()[-2000:])
            time.sleep(0.1)
        with urllib.request.urlopen(found.group(1) + "/chc/live", timeout=10) as response:
            if response.status != 200:
                fail(f"/chc/live -> {response.status}")
        # Ready once the queries' consumers have their partitions (the group joins take
        # seconds), as the kubelet's readiness probe polls it.
        while True:
            try:
                with urllib.request.urlopen(found.group(1) + "/chc/ready", timeout=10) as response:
                    if response.status == 200:
                        break
            except urllib.error.HTTPError as error:
                if error.code != 503 or time.time() > deadline:
                    fail(f"/chc/ready -> {error.code}: {error.read().decode()[:500]}")
            time.sleep(0.2)
        listed = urllib.request.urlopen(urllib.request.Request(
            found.group(1) + "/ksql", data=b'{"ksql": "SHOW QUERIES;"}',
            headers={"Content-Type": "application/json"}), timeout=10).read().decode()
        if "CELL_HEALTH" not in listed.upper():
            fail(f"the ConfigMap's queries are not running: {listed[:500]}")
    finally:
        serve.terminate()
        serve.wait(timeout=60)
    if serve.returncode != 0:
        fail(f"serve exited with {serve.returncode} after SIGTERM: " + open(err.name).read()[-2000:])
    print("ok serve starts with the ConfigMap's config, runs its queries, answers the probes, "
          "and stops cleanly on SIGTERM")


def check_dockerfile(sidestream, dockerfile):
    text = open(dockerfile).read()
    runtime = text[text.rindex("\nFROM "):]
    installed = set(re.findall(r"\b(lib[a-z0-9.+-]+|tzdata|ca-certificates)\b", runtime))
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", sidestream], capture_output=True,
                                       text=True, check=True).stdout)
    # Where the loader finds each library here, and the package that owns that file.
    resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", subprocess.run(
        ["ldd", sidestream], capture_output=True, text=True).stdout, re.M))
    missing = []
    for library in needed:
        owner = None
        for path in (resolved.get(library, ""), os.path.realpath(resolved.get(library, ""))):
            result = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if path and result.returncode == 0:
                owner = result.stdout.split(":")[0]
                break
        if owner is None:
            fail(f"no Debian package owns {library} ({resolved.get(library)})")
        if owner in installed or owner in SANITIZER_PACKAGES or owner in SLIM_PACKAGES:
            continue
        package = owner
        missing.append(f"{library} ({package})")
    if missing:
        fail("the Dockerfile's runtime stage lacks: " + ", ".join(sorted(set(missing))))
    print(f"ok the Dockerfile installs the packages of all {len(needed)} needed libraries")
    if os.environ.get("SIDESTREAM_DOCKER_BUILD") != "1":
        print("note: docker build not run (set SIDESTREAM_DOCKER_BUILD=1 with a Docker daemon)")
        return
    root = os.path.dirname(os.path.dirname(dockerfile))
    subprocess.run(["docker", "build", "-f", dockerfile, "-t", "sidestream:test", root],
                   check=True)
    subprocess.run(["docker", "run", "--rm", "sidestream:test", "--version"], check=True)


def main():
    sidestream, root = sys.argv[1], sys.argv[2]
    install_validator()
    k8s = os.path.join(root, "deploy", "k8s")
    manifests = sorted(os.path.join(k8s, f) for f in os.listdir(k8s) if f.endswith(".yaml"))
    check_schemas(manifests)
    docs = list(documents(manifests))
    config_map = next(d for _, d in docs if d["kind"] == "ConfigMap")
    expected = "".join(open(os.path.join(root, "queries", f)).read() + "\n"
                       for f in ("sources/cdr.sql", "cell_health.sql"))
    if config_map["data"]["queries.sql"].strip() != expected.strip():
        fail("the ConfigMap's queries.sql is not queries/sources/cdr.sql + queries/cell_health.sql")
    print("ok the ConfigMap's queries are the files in queries/")
    settings = yaml.safe_load(config_map["data"]["sidestream.yaml"])
    check_workloads(docs, config_map, settings)
    work = tempfile.mkdtemp()
    try:
        check_serve(sidestream, config_map, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    check_dockerfile(sidestream, os.path.join(root, "deploy", "Dockerfile"))
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
