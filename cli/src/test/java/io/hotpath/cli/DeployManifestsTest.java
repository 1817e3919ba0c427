package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The Kubernetes and KServe manifests under {@code deploy/} agree with the server and with the image
 * that cli/pom.xml's {@code image} profile builds: kinds and API versions, the image name, the ports
 * (named and numbered alike in the Deployment, the Service and the ServingRuntime), the health probe
 * paths, the model mount at the entrypoint's {@code --model-repository}, the user, the metrics scrape.
 */
class DeployManifestsTest {
    // The defaults of `hotpath serve` (module serve): its HTTP, gRPC and metrics ports and the Open
    // Inference Protocol's health paths. Once the serve command exposes them as constants, use those.
    static final int HTTP_PORT = 8000;
    static final int GRPC_PORT = 8001;
    static final int METRICS_PORT = 8002;
    static final String LIVE = "/v2/health/live";
    static final String READY = "/v2/health/ready";
    static final String METRICS_PATH = "/metrics";
    /** Where KServe's storage initializer puts the model: the image's --model-repository must be it. */
    static final String KSERVE_MODEL_DIR = "/mnt/models";

    static final Path DEPLOY = Path.of("..", "deploy");
    /** Every manifest under deploy/, with its apiVersion and kind. */
    static final Map<String, String> MANIFESTS = Map.of(
            "kserve/serving-runtime.yaml", "serving.kserve.io/v1alpha1 ServingRuntime",
            "kserve/inference-service.yaml", "serving.kserve.io/v1beta1 InferenceService",
            "k8s/deployment.yaml", "apps/v1 Deployment",
            "k8s/service.yaml", "v1 Service",
            "k8s/hpa.yaml", "autoscaling/v2 HorizontalPodAutoscaler",
            "k8s/kustomization.yaml", "kustomize.config.k8s.io/v1beta1 Kustomization");

    static Image image;
    static Map<String, Object> runtime, isvc, deployment, service, hpa, kustomization;

    /** What the image profile of cli/pom.xml builds. */
    record Image(String name, List<String> entrypoint, List<String> args, Set<Integer> ports, String user) {}

    @BeforeAll
    static void read() throws Exception {
        image = imageProfile(Path.of("pom.xml"));
        runtime = manifest("kserve/serving-runtime.yaml");
        isvc = manifest("kserve/inference-service.yaml");
        deployment = manifest("k8s/deployment.yaml");
        service = manifest("k8s/service.yaml");
        hpa = manifest("k8s/hpa.yaml");
        kustomization = manifest("k8s/kustomization.yaml");
    }

    @Test
    void everyManifestIsKnownAndOfItsKind() throws IOException {
        Set<String> found = new TreeSet<>();
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .forEach(p -> found.add(DEPLOY.relativize(p).toString().replace('\\', '/')));
        }
        assertEquals(new TreeSet<>(MANIFESTS.keySet()), found, "manifests under deploy/ (a new one needs its checks here)");
        for (var e : MANIFESTS.entrySet()) {
            Map<String, Object> m = manifest(e.getKey());
            assertEquals(e.getValue(), m.get("apiVersion") + " " + m.get("kind"), e.getKey());
        }
    }

    @Test
    void theImageIsTheOneThePomBuilds() {
        assertEquals(List.of("serve", "--model-repository", KSERVE_MODEL_DIR, "--host", "0.0.0.0"), image.args(),
                "the image's default command");
        assertEquals("io.hotpath.cli.HotpathCommand", image.entrypoint().getLast());
        assertEquals(HotpathCommand.class.getName(), image.entrypoint().getLast());
        assertTrue(image.entrypoint().contains("@/opt/hotpath/jvm.flags"), "the JVM flags: " + image.entrypoint());
        assertEquals(Set.of(HTTP_PORT, GRPC_PORT, METRICS_PORT), image.ports(), "the image's exposed ports");
        assertEquals(image.name(), str(container(deployment), "image"), "deployment.yaml's image");
        assertEquals(image.name(), str(kserveContainer(), "image"), "serving-runtime.yaml's image");
    }

    @Test
    void deploymentServesTheModelVolumeOnTheServerPorts() {
        Map<String, Object> c = container(deployment);
        List<String> args = strings(c.get("args"));
        checkArgs("deployment.yaml", args, ports(c), Map.of("--http-port", "http", "--grpc-port", "grpc", "--metrics-port", "metrics"));
        assertEquals(Map.of("http", HTTP_PORT, "grpc", GRPC_PORT, "metrics", METRICS_PORT), ports(c), "deployment.yaml's container ports");

        // the model volume is mounted where --model-repository points, read-only, and the volume exists
        String repo = argValue(args, "--model-repository");
        Map<String, Object> mount = list(c.get("volumeMounts")).stream().map(DeployManifestsTest::map)
                .filter(m -> repo.equals(m.get("mountPath"))).findFirst()
                .orElseThrow(() -> new AssertionError("deployment.yaml mounts nothing at " + repo));
        assertEquals(Boolean.TRUE, mount.get("readOnly"), "the model mount is read-only");
        Map<String, Object> pod = podSpec(deployment);
        assertTrue(list(pod.get("volumes")).stream().map(DeployManifestsTest::map).anyMatch(v -> mount.get("name").equals(v.get("name"))),
                "volume " + mount.get("name") + " is declared");

        // read-only root: /tmp (JavaCPP's cachedir, HOTPATH_CACHE) is a volume
        assertEquals(Boolean.TRUE, map(c.get("securityContext")).get("readOnlyRootFilesystem"));
        assertTrue(list(c.get("volumeMounts")).stream().map(DeployManifestsTest::map).anyMatch(m -> "/tmp".equals(m.get("mountPath"))),
                "/tmp is writable");
    }

    @Test
    void probesAskTheHealthEndpointsOnTheHttpPort() {
        Map<String, Object> c = container(deployment);
        checkProbe("deployment.yaml liveness", c, "livenessProbe", LIVE);
        checkProbe("deployment.yaml startup", c, "startupProbe", LIVE);
        checkProbe("deployment.yaml readiness", c, "readinessProbe", READY);
        Map<String, Object> k = kserveContainer();
        checkProbe("serving-runtime.yaml liveness", k, "livenessProbe", LIVE);
        checkProbe("serving-runtime.yaml startup", k, "startupProbe", LIVE);
        checkProbe("serving-runtime.yaml readiness", k, "readinessProbe", READY);
    }

    @Test
    void theImageUserRunsThePods() {
        int uid = Integer.parseInt(image.user().split(":")[0]);
        int gid = Integer.parseInt(image.user().split(":")[1]);
        Map<String, Object> pod = map(podSpec(deployment).get("securityContext"));
        assertEquals(Boolean.TRUE, pod.get("runAsNonRoot"));
        assertEquals(uid, pod.get("runAsUser"), "deployment.yaml runAsUser");
        assertEquals(gid, pod.get("runAsGroup"), "deployment.yaml runAsGroup");
        Map<String, Object> k = map(kserveContainer().get("securityContext"));
        assertEquals(uid, k.get("runAsUser"), "serving-runtime.yaml runAsUser");
        assertEquals(gid, k.get("runAsGroup"), "serving-runtime.yaml runAsGroup");
    }

    @Test
    void sigtermDrainsWithinTheGracePeriod() {
        Map<String, Object> preStop = map(map(container(deployment).get("lifecycle")).get("preStop"));
        int sleep = (Integer) map(preStop.get("sleep")).get("seconds");
        int grace = (Integer) podSpec(deployment).get("terminationGracePeriodSeconds");
        assertTrue(grace >= sleep + 15, "terminationGracePeriodSeconds " + grace + " leaves the server at least 15 s to drain after preStop's " + sleep + " s");
    }

    @Test
    void metricsAreScrapedFromTheMetricsPort() {
        Map<String, Object> ann = map(map(map(map(deployment.get("spec")).get("template")).get("metadata")).get("annotations"));
        assertEquals("true", ann.get("prometheus.io/scrape"));
        assertEquals(String.valueOf(METRICS_PORT), ann.get("prometheus.io/port"), "deployment.yaml scrapes port");
        assertEquals(String.valueOf(ports(container(deployment)).get("metrics")), ann.get("prometheus.io/port"));
        assertEquals(METRICS_PATH, ann.get("prometheus.io/path"));
        Map<String, Object> kann = map(map(runtime.get("spec")).get("annotations"));
        assertEquals(String.valueOf(METRICS_PORT), kann.get("prometheus.kserve.io/port"), "serving-runtime.yaml scrapes port");
        assertEquals(METRICS_PATH, kann.get("prometheus.kserve.io/path"));
    }

    @Test
    void serviceExposesTheContainerPortsUnderTheirNames() {
        Map<String, Integer> containerPorts = ports(container(deployment));
        Map<String, Object> spec = map(service.get("spec"));
        Map<String, Integer> servicePorts = new HashMap<>();
        for (Object o : list(spec.get("ports"))) {
            Map<String, Object> p = map(o);
            String name = str(p, "name");
            Object target = p.get("targetPort");
            int resolved = target instanceof Integer i ? i : containerPorts.getOrDefault(String.valueOf(target), -1);
            assertEquals(containerPorts.get(name), resolved, "service.yaml port " + name + " targets the container port of that name");
            assertEquals(resolved, p.get("port"), "service.yaml port " + name + " keeps the server's number");
            servicePorts.put(name, resolved);
        }
        assertEquals(containerPorts, servicePorts, "service.yaml's ports");
        Map<String, Object> podLabels = map(map(map(map(deployment.get("spec")).get("template")).get("metadata")).get("labels"));
        assertTrue(podLabels.entrySet().containsAll(map(spec.get("selector")).entrySet()), "service.yaml selects deployment.yaml's pods");
        assertEquals(map(map(deployment.get("spec")).get("selector")).get("matchLabels"), spec.get("selector"));
    }

    @Test
    void hpaScalesTheDeploymentOnCpu() {
        Map<String, Object> spec = map(hpa.get("spec"));
        Map<String, Object> target = map(spec.get("scaleTargetRef"));
        assertEquals("apps/v1 Deployment " + map(deployment.get("metadata")).get("name"),
                target.get("apiVersion") + " " + target.get("kind") + " " + target.get("name"));
        assertTrue(list(spec.get("metrics")).stream().map(DeployManifestsTest::map)
                .anyMatch(m -> "Resource".equals(m.get("type")) && "cpu".equals(map(m.get("resource")).get("name"))), "hpa.yaml scales on cpu");
        assertNotNull(map(map(container(deployment).get("resources")).get("requests")).get("cpu"), "utilization needs requests.cpu");
        assertFalse(map(deployment.get("spec")).containsKey("replicas"), "the HPA owns replicas: deployment.yaml leaves them out");
        assertEquals(List.of("deployment.yaml", "service.yaml", "hpa.yaml"), kustomization.get("resources"));
    }

    @Test
    void servingRuntimeServesOnnxOverBothProtocols() {
        Map<String, Object> spec = map(runtime.get("spec"));
        assertTrue(list(spec.get("supportedModelFormats")).stream().map(DeployManifestsTest::map).anyMatch(f -> "onnx".equals(f.get("name"))));
        assertEquals(List.of("v2", "grpc-v2"), spec.get("protocolVersions"));
        Map<String, Object> c = kserveContainer();
        // KServe's gRPC port is named h2c; the http port comes first (KServe's Service port 80 goes to it)
        assertEquals(new ArrayList<>(List.of("http", "h2c")), new ArrayList<>(ports(c).keySet()), "serving-runtime.yaml's port names, in order");
        assertEquals(Map.of("http", HTTP_PORT, "h2c", GRPC_PORT), ports(c));
        checkArgs("serving-runtime.yaml", strings(c.get("args")), ports(c), Map.of("--http-port", "http", "--grpc-port", "h2c"));
        assertEquals(String.valueOf(METRICS_PORT), argValue(strings(c.get("args")), "--metrics-port"));
        // KServe defines {{.Name}}-style placeholders only in its own set; hotpath serve needs none
        for (String a : strings(c.get("args"))) {
            Matcher m = Pattern.compile("\\{\\{\\s*\\.(\\w+)").matcher(a);
            while (m.find()) {
                assertTrue(Set.of("Name", "Namespace", "Labels", "Annotations").contains(m.group(1)), "a KServe placeholder: " + a);
            }
        }
    }

    @Test
    void inferenceServiceUsesTheRuntime() {
        Map<String, Object> model = map(map(map(isvc.get("spec")).get("predictor")).get("model"));
        Map<String, Object> rspec = map(runtime.get("spec"));
        assertEquals(map(runtime.get("metadata")).get("name"), model.get("runtime"));
        String format = str(map(model.get("modelFormat")), "name");
        assertTrue(list(rspec.get("supportedModelFormats")).stream().map(DeployManifestsTest::map).anyMatch(f -> format.equals(f.get("name"))),
                "the runtime supports " + format);
        assertTrue(list(rspec.get("protocolVersions")).contains(model.get("protocolVersion")));
        assertTrue(str(model, "storageUri").matches("[a-z0-9]+://.+"), "a storageUri placeholder: " + model.get("storageUri"));
        // two container ports: KServe's RawDeployment mode (Knative allows one)
        assertEquals("RawDeployment", map(map(isvc.get("metadata")).get("annotations")).get("serving.kserve.io/deploymentMode"));
    }

    // --- checks ---

    /** args start with the image's default command and name the ports the container declares. */
    static void checkArgs(String file, List<String> args, Map<String, Integer> ports, Map<String, String> portOfOption) {
        assertEquals(image.args(), args.subList(0, Math.min(args.size(), image.args().size())), file + ": the image's command first");
        assertEquals(KSERVE_MODEL_DIR, argValue(args, "--model-repository"), file + " --model-repository");
        for (var e : portOfOption.entrySet()) {
            assertEquals(String.valueOf(ports.get(e.getValue())), argValue(args, e.getKey()), file + " " + e.getKey() + " is port " + e.getValue());
        }
    }

    static void checkProbe(String what, Map<String, Object> container, String probe, String path) {
        Map<String, Object> get = map(map(container.get(probe)).get("httpGet"));
        assertEquals(path, get.get("path"), what + " path");
        Object port = get.get("port");
        int resolved = port instanceof Integer i ? i : ports(container).getOrDefault(String.valueOf(port), -1);
        assertEquals(HTTP_PORT, resolved, what + " port " + port);
    }

    static String argValue(List<String> args, String option) {
        int i = args.indexOf(option);
        if (i < 0 || i + 1 >= args.size()) {
            fail("no " + option + " in " + args);
        }
        return args.get(i + 1);
    }

    // --- reading ---

    static Map<String, Object> manifest(String file) {
        try (Reader r = Files.newBufferedReader(DEPLOY.resolve(file))) {
            List<Object> docs = new ArrayList<>();
            new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(r).forEach(docs::add);
            assertEquals(1, docs.size(), file + ": one document");
            return map(docs.getFirst());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Map<String, Object> podSpec(Map<String, Object> deployment) {
        return map(map(map(deployment.get("spec")).get("template")).get("spec"));
    }

    static Map<String, Object> container(Map<String, Object> deployment) {
        List<Object> cs = list(podSpec(deployment).get("containers"));
        assertEquals(1, cs.size(), "one container");
        return map(cs.getFirst());
    }

    static Map<String, Object> kserveContainer() {
        return list(map(runtime.get("spec")).get("containers")).stream().map(DeployManifestsTest::map)
                .filter(c -> "kserve-container".equals(c.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("serving-runtime.yaml has no kserve-container"));
    }

    /** A container's ports by name, in their order. */
    static Map<String, Integer> ports(Map<String, Object> container) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (Object o : list(container.get("ports"))) {
            Map<String, Object> p = map(o);
            assertNotNull(p.get("name"), "a named port: " + p);
            assertEquals("TCP", p.get("protocol"), "port " + p.get("name"));
            ports.put(str(p, "name"), (Integer) p.get("containerPort"));
        }
        return ports;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        assertTrue(o instanceof Map, "a mapping: " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        assertTrue(o instanceof List, "a list: " + o);
        return (List<Object>) o;
    }

    static List<String> strings(Object o) {
        return list(o).stream().map(v -> {
            assertTrue(v instanceof String, "quoted, a string: " + v);   // an unquoted "8000" would be read as a number
            return (String) v;
        }).toList();
    }

    static String str(Map<String, Object> m, String key) {
        Object v = m.get(key);
        assertTrue(v instanceof String, key + " is a string: " + v);
        return (String) v;
    }

    /** The image profile's Jib configuration in cli/pom.xml, its ${...} resolved. */
    static Image imageProfile(Path pom) throws Exception {
        var f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        Element project = f.newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
        Map<String, String> props = new HashMap<>();
        props.put("project.version", text(child(child(project, "parent"), "version")));
        Element profile = children(child(project, "profiles"), "profile").stream()
                .filter(p -> "image".equals(text(child(p, "id")))).findFirst()
                .orElseThrow(() -> new AssertionError("no profile image in " + pom));
        for (Element p : children(child(profile, "properties"), null)) {
            props.put(p.getTagName(), text(p));
        }
        Element jib = children(child(child(profile, "build"), "plugins"), "plugin").stream()
                .filter(p -> "jib-maven-plugin".equals(text(child(p, "artifactId")))).findFirst()
                .orElseThrow(() -> new AssertionError("no jib-maven-plugin in the image profile"));
        Element conf = child(jib, "configuration");
        Element container = child(conf, "container");
        List<String> entrypoint = children(child(container, "entrypoint"), "arg").stream().map(e -> resolve(text(e), props)).toList();
        List<String> args = children(child(container, "args"), "arg").stream().map(e -> resolve(text(e), props)).toList();
        Set<Integer> ports = new TreeSet<>();
        children(child(container, "ports"), "port").forEach(e -> ports.add(Integer.parseInt(resolve(text(e), props))));
        return new Image(resolve(text(child(child(conf, "to"), "image")), props), entrypoint, args, ports,
                resolve(text(child(container, "user")), props));
    }

    static String resolve(String s, Map<String, String> props) {
        Matcher m = Pattern.compile("\\$\\{([^}]+)}").matcher(s);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String v = props.get(m.group(1));
            assertNotNull(v, "property " + m.group(1));
            m.appendReplacement(b, Matcher.quoteReplacement(resolve(v, props)));
        }
        return m.appendTail(b).toString();
    }

    static Element child(Element parent, String tag) {
        List<Element> c = children(parent, tag);
        assertEquals(1, c.size(), "one <" + tag + "> in <" + parent.getTagName() + ">");
        return c.getFirst();
    }

    static List<Element> children(Element parent, String tag) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && (tag == null || e.getTagName().equals(tag))) {
                out.add(e);
            }
        }
        return out;
    }

    static String text(Element e) {
        return e.getTextContent().strip();
    }
}
