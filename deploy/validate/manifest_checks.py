#!/usr/bin/env python3
"""Helpers for tests/deploy_validate.sh (run with the deploy-tools venv's Python, which has PyYAML).

  manifest_checks.py split RENDERED.yaml OUTDIR
      Splits a `kubectl kustomize` output into OUTDIR/builtin.yaml (kinds the Kubernetes schemas
      cover), OUTDIR/crds.json (custom resources, e.g. ServiceMonitor) and OUTDIR/config-<name>.yaml
      (each ConfigMap's switchyard.yaml, for `switchyard check`).

  manifest_checks.py consistency RENDERED.yaml [--require-namespace]
      Cross-checks what no schema can: the Deployment's terminationGracePeriodSeconds against the
      drain delay and grace period in the config it mounts, the listen addresses against the container
      ports and probes, and the security settings the docs promise. With --require-namespace (overlays),
      every namespaced object must have a namespace other than `default`.

  manifest_checks.py systemd UNIT CONFIG
      TimeoutStopSec of the unit against drain_delay_seconds + grace_period_seconds of CONFIG.

Exit status 1 with one line per problem on failure.
"""
import json
import os
import re
import sys

import yaml

# API groups whose kinds the kubernetes-validate schemas cover (core is "").
BUILTIN_GROUPS = {
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "certificates.k8s.io", "node.k8s.io",
    "events.k8s.io", "flowcontrol.apiserver.k8s.io",
}
# Defaults the binary applies when the config omits them (src/config/validate.rs).
DEFAULT_DRAIN, DEFAULT_GRACE = 0, 30
MARGIN_SECONDS = 5


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def group_of(obj):
    api = obj.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


def drain_and_grace(config_text):
    server = (yaml.safe_load(config_text) or {}).get("server") or {}
    return (int(server.get("drain_delay_seconds", DEFAULT_DRAIN)), int(server.get("grace_period_seconds", DEFAULT_GRACE)))


def split(rendered, outdir):
    os.makedirs(outdir, exist_ok=True)
    builtin, crds, configs = [], [], []
    for obj in load(rendered):
        (builtin if group_of(obj) in BUILTIN_GROUPS else crds).append(obj)
        if obj.get("kind") == "ConfigMap" and "switchyard.yaml" in (obj.get("data") or {}):
            path = os.path.join(outdir, "config-%s.yaml" % obj["metadata"]["name"])
            with open(path, "w") as f:
                f.write(obj["data"]["switchyard.yaml"])
            configs.append(path)
    with open(os.path.join(outdir, "builtin.yaml"), "w") as f:
        yaml.safe_dump_all(builtin, f, sort_keys=False)
    with open(os.path.join(outdir, "crds.json"), "w") as f:
        json.dump(crds, f)
    kinds = lambda objs: ", ".join(sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objs)) or "none"
    print("    built-in objects (%d): %s" % (len(builtin), kinds(builtin)))
    print("    custom resources (%d): %s" % (len(crds), kinds(crds)))
    print("    switchyard configs: %s" % (", ".join(os.path.basename(c) for c in configs) or "none"))
    return 0


CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "StorageClass"}


def consistency(rendered, *flags):
    objs = load(rendered)
    problems = []
    if "--require-namespace" in flags:
        for o in objs:
            ns = o["metadata"].get("namespace")
            if o["kind"] not in CLUSTER_SCOPED and ns in (None, "", "default"):
                problems.append("%s/%s: namespace is %s" % (o["kind"], o["metadata"]["name"], ns or "unset (the kubectl context's, often `default`)"))
        if not problems:
            print("    every namespaced object has a namespace: %s" % ", ".join(sorted({o["metadata"].get("namespace") for o in objs if o["kind"] not in CLUSTER_SCOPED})))
    configmaps = {o["metadata"]["name"]: o for o in objs if o.get("kind") == "ConfigMap"}
    deployments = [o for o in objs if o.get("kind") == "Deployment"]
    if not deployments:
        problems.append("no Deployment rendered")
    for d in deployments:
        name = d["metadata"]["name"]
        spec = d["spec"]
        pod = spec["template"]["spec"]
        if spec.get("replicas", 1) < 2:
            problems.append("%s: replicas %s < 2" % (name, spec.get("replicas", 1)))
        if pod.get("automountServiceAccountToken") is not False:
            problems.append("%s: automountServiceAccountToken is not false" % name)
        if not pod.get("topologySpreadConstraints"):
            problems.append("%s: no topologySpreadConstraints" % name)
        for hpa in (o for o in objs if o.get("kind") == "HorizontalPodAutoscaler" and o["spec"]["scaleTargetRef"]["name"] == name):
            if hpa["spec"].get("minReplicas", 1) != spec.get("replicas", 1):
                problems.append("%s: replicas %s differs from HPA %s minReplicas %s (kubectl apply would fight the autoscaler)"
                                % (name, spec.get("replicas", 1), hpa["metadata"]["name"], hpa["spec"].get("minReplicas", 1)))
        config_volumes = {v["name"]: v["configMap"]["name"] for v in pod.get("volumes", []) if "configMap" in v}
        tgps = pod.get("terminationGracePeriodSeconds", 30)
        for c in pod["containers"]:
            sc = c.get("securityContext") or {}
            want = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True}
            for key, value in want.items():
                if sc.get(key) is not value:
                    problems.append("%s/%s: securityContext.%s is not %s" % (name, c["name"], key, value))
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                problems.append("%s/%s: capabilities do not drop ALL" % (name, c["name"]))
            if ((sc.get("seccompProfile") or pod.get("securityContext", {}).get("seccompProfile") or {}).get("type")) != "RuntimeDefault":
                problems.append("%s/%s: seccompProfile is not RuntimeDefault" % (name, c["name"]))
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            probes = {k: c.get(k) for k in ("startupProbe", "livenessProbe", "readinessProbe")}
            expect = {"startupProbe": ("/healthz", "admin"), "livenessProbe": ("/healthz", "admin"), "readinessProbe": ("/readyz", None)}
            for kind, (path, port) in expect.items():
                get = (probes[kind] or {}).get("httpGet") or {}
                if get.get("path") != path or (port and get.get("port") != port):
                    problems.append("%s/%s: %s should GET %s%s" % (name, c["name"], kind, path, " on port %s" % port if port else ""))
            args = c.get("args") or []
            if "--config" not in args:
                problems.append("%s/%s: no --config argument" % (name, c["name"]))
                continue
            config_path = args[args.index("--config") + 1]
            mounted = None
            for m in c.get("volumeMounts", []):
                if config_path.startswith(m["mountPath"].rstrip("/") + "/") and m["name"] in config_volumes:
                    mounted = configmaps.get(config_volumes[m["name"]])
            if mounted is None or "switchyard.yaml" not in mounted.get("data", {}):
                problems.append("%s/%s: %s is not a mounted ConfigMap's switchyard.yaml" % (name, c["name"], config_path))
                continue
            text = mounted["data"]["switchyard.yaml"]
            drain, grace = drain_and_grace(text)
            need = drain + grace + MARGIN_SECONDS
            if tgps < need:
                problems.append("%s: terminationGracePeriodSeconds %d < drain_delay_seconds %d + grace_period_seconds %d + %d s margin"
                                % (name, tgps, drain, grace, MARGIN_SECONDS))
            else:
                print("    %s: terminationGracePeriodSeconds %d >= drain %d + grace %d + %d" % (name, tgps, drain, grace, MARGIN_SECONDS))
            listen = (yaml.safe_load(text) or {}).get("listen") or {}
            for which, port_name in (("proxy", "proxy"), ("admin", "admin")):
                addr = str(listen.get(which, ""))
                m = re.fullmatch(r"(.*):(\d+)", addr)
                if not m or m.group(1) not in ("0.0.0.0", "[::]"):
                    problems.append("%s: config listen.%s `%s` is not on all interfaces (0.0.0.0 or [::])" % (name, which, addr))
                elif int(m.group(2)) != ports.get(port_name):
                    problems.append("%s: config listen.%s port %s != containerPort `%s` %s" % (name, which, m.group(2), port_name, ports.get(port_name)))
    for p in problems:
        print("    PROBLEM: " + p)
    return 1 if problems else 0


def systemd(unit, config):
    text = open(unit).read()
    m = re.search(r"^TimeoutStopSec=(\d+)s?$", text, re.M)
    if not m:
        print("    PROBLEM: %s has no TimeoutStopSec=<seconds>" % unit)
        return 1
    timeout = int(m.group(1))
    drain, grace = drain_and_grace(open(config).read())
    if timeout < drain + grace + MARGIN_SECONDS:
        print("    PROBLEM: TimeoutStopSec %d < drain %d + grace %d + %d s margin (%s)" % (timeout, drain, grace, MARGIN_SECONDS, config))
        return 1
    print("    TimeoutStopSec %d >= drain %d + grace %d + %d (%s)" % (timeout, drain, grace, MARGIN_SECONDS, os.path.basename(config)))
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    sys.exit({"split": split, "consistency": consistency, "systemd": systemd}[cmd](*args))
