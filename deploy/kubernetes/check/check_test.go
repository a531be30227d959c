// Package check validates deploy/'s Kubernetes manifests offline: it renders
// deploy/kustomization.yaml with kustomize's own library, decodes every
// object strictly into the Kubernetes API's Go types (an unknown or
// misspelt field, or a value of the wrong type, fails), and checks the
// properties corekv's deployment relies on. It is a module of its own so
// that the server's go.mod does not carry Kubernetes' dependencies.
package check

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// objects renders deploy/ and returns each object's kind and YAML.
func objects(t *testing.T) map[string][]byte {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("kustomize deploy/: %v", err)
	}
	out := map[string][]byte{}
	for _, r := range res.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %v", r.CurId(), err)
		}
		out[r.GetKind()+"/"+r.GetName()] = b
	}
	return out
}

// decode unmarshals b into v, refusing unknown fields.
func decode(t *testing.T, name string, b []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s does not match the Kubernetes API: %v", name, err)
	}
}

// find returns the object named name ("Kind/name"); a name ending in "-"
// matches the generated suffix kustomize gives a ConfigMap.
func find(t *testing.T, objs map[string][]byte, name string) (string, []byte) {
	t.Helper()
	for n, b := range objs {
		if n == name || strings.HasSuffix(name, "-") && strings.HasPrefix(n, name) {
			return n, b
		}
	}
	t.Fatalf("no %s in the rendered manifests: %v", name, keys(objs))
	return "", nil
}

func TestManifestsDecodeStrictly(t *testing.T) {
	objs := objects(t)
	for name, b := range objs {
		var v any
		switch kind := name[:strings.IndexByte(name, '/')]; kind {
		case "Service":
			v = &corev1.Service{}
		case "ConfigMap":
			v = &corev1.ConfigMap{}
		case "StatefulSet":
			v = &appsv1.StatefulSet{}
		case "Deployment":
			v = &appsv1.Deployment{}
		default:
			t.Errorf("%s: a kind this check does not know; add it", name)
			continue
		}
		decode(t, name, b, v)
	}
	if len(objs) != 5 {
		t.Errorf("rendered %d objects, want 5 (2 Services, StatefulSet, Deployment, ConfigMap): %v", len(objs), keys(objs))
	}
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestCorekvPods checks what the README promises of the StatefulSet: whole,
// exclusive CPUs (Guaranteed QoS), pinning, a headless Service, non-root.
func TestCorekvPods(t *testing.T) {
	objs := objects(t)
	name, b := find(t, objs, "StatefulSet/corekv")
	var ss appsv1.StatefulSet
	decode(t, name, b, &ss)
	pod := ss.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", name, len(pod.Containers))
	}
	c := pod.Containers[0]
	req, lim := c.Resources.Requests, c.Resources.Limits
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		q, ok := req[r]
		if !ok || q.Cmp(lim[r]) != 0 {
			t.Errorf("%s: %s request %v and limit %v must be set and equal (Guaranteed QoS)", name, r, req[r], lim[r])
		}
	}
	cpu := lim[corev1.ResourceCPU]
	if cpu.MilliValue()%1000 != 0 || cpu.Cmp(resource.MustParse("1")) < 0 {
		t.Errorf("%s: CPU %v is not a whole number: the static CPU manager gives exclusive cores only to integer requests", name, cpu.String())
	}
	if !contains(c.Args, "--pin-cores") {
		t.Errorf("%s: args %q lack --pin-cores", name, c.Args)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Errorf("%s: readiness must be the admin listener's /healthz (ready once every shard runs, not during the drain)", name)
	} else if port := p.HTTPGet.Port.String(); !hasPort(c.Ports, port) {
		t.Errorf("%s: readiness probes port %q, which the container does not declare", name, port)
	} else if !contains(c.Args, "--admin-addr=:"+strconv.Itoa(int(portNumber(c.Ports, port)))) {
		t.Errorf("%s: the admin listener must listen on the pod's address at port %q (args %q): its default is loopback only", name, port, c.Args)
	}
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: pods must run as non-root", name)
	}
	if ss.Spec.ServiceName == "" {
		t.Fatalf("%s: no serviceName", name)
	}
	sname, sb := find(t, objs, "Service/"+ss.Spec.ServiceName)
	var svc corev1.Service
	decode(t, sname, sb, &svc)
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("%s: clusterIP %q, want None (headless: per-pod DNS names for the hash ring)", sname, svc.Spec.ClusterIP)
	}
}

// TestProxyConfig checks that the proxy mounts the same corekv.conf that
// deploy/test.sh proves, and a nodes.conf listing every StatefulSet pod.
func TestProxyConfig(t *testing.T) {
	objs := objects(t)
	name, b := find(t, objs, "ConfigMap/corekv-nginx-")
	var cm corev1.ConfigMap
	decode(t, name, b, &cm)
	shipped, err := os.ReadFile(filepath.Join("..", "..", "nginx", "corekv.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(cm.Data["corekv.conf"]), shipped) {
		t.Errorf("%s: corekv.conf is not deploy/nginx/corekv.conf", name)
	}
	_, sb := find(t, objs, "StatefulSet/corekv")
	var ss appsv1.StatefulSet
	decode(t, "StatefulSet", sb, &ss)
	nodes := cm.Data["nodes.conf"]
	for i := 0; i < int(*ss.Spec.Replicas); i++ {
		want := "server corekv-" + strconv.Itoa(i) + ".corekv:3000"
		if !strings.Contains(nodes, want) {
			t.Errorf("%s: nodes.conf lacks %q: the ring must list every one of the %d replicas", name, want, *ss.Spec.Replicas)
		}
	}
	if got := strings.Count(nodes, "\tserver "); got != int(*ss.Spec.Replicas) {
		t.Errorf("%s: nodes.conf lists %d servers for %d replicas", name, got, *ss.Spec.Replicas)
	}
}

// hasPort reports whether ports has one named name.
func hasPort(ports []corev1.ContainerPort, name string) bool {
	return portNumber(ports, name) != 0
}

// portNumber returns the number of the port named name, 0 if none.
func portNumber(ports []corev1.ContainerPort, name string) int32 {
	for _, p := range ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
