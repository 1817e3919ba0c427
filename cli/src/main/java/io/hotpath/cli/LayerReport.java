package io.hotpath.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** One line from TensorRT's engine-inspector JSON: how many layers remain after fusion and in which precision they write. */
final class LayerReport {
    private LayerReport() {
    }

    static String summary(String json) {
        try {
            JsonNode root = new ObjectMapper().readTree(json);
            JsonNode layers = root.path("Layers");
            if (!layers.isArray()) {
                return "no layer information";
            }
            Map<String, Integer> byType = new TreeMap<>();
            Map<String, Integer> byPrecision = new TreeMap<>();
            int fused = 0;
            int onnxNodes = 0;
            for (JsonNode l : layers) {
                // "Metadata" lists the ONNX nodes a layer implements, "[ONNX Layer: a]\u001f[ONNX Layer: b]"
                String meta = l.path("Metadata").asText("");
                int n = meta.isEmpty() ? 0 : meta.split("\\[ONNX Layer:", -1).length - 1;
                onnxNodes += n;
                if (n > 1) {
                    fused++;
                }
                byType.merge(l.path("LayerType").asText("?"), 1, Integer::sum);
                JsonNode out = l.path("Outputs").path(0);
                String fmt = out.path("Format/Datatype").asText("").toLowerCase(Locale.ROOT);
                String p = fmt.contains("int8") ? "int8" : fmt.contains("half") || fmt.contains("fp16") ? "fp16"
                        : fmt.contains("float") || fmt.contains("fp32") ? "fp32" : fmt.contains("int32") || fmt.contains("int64") ? "int"
                        : fmt.isEmpty() ? "?" : "other";
                byPrecision.merge(p, 1, Integer::sum);
            }
            return layers.size() + " engine layers over all profiles, " + fused + " of them fused from several ONNX nodes ("
                    + onnxNodes + " ONNX nodes covered); output precision " + byPrecision
                    + "; types " + byType;
        } catch (Exception e) {
            return "layer report unreadable: " + e.getMessage();
        }
    }
}
