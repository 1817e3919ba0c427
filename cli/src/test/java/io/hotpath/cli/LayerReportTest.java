package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LayerReportTest {
    /** The shape of TensorRT 10.6's engine-inspector JSON (detailed verbosity), as an H100 run of the mlp wrote it, trimmed. */
    private static final String JSON = """
            {"Layers": [
              {"Name": "__myl_MulSumAddRel_myl0_0", "LayerType": "kgen",
               "Inputs": [{"Name": "features", "Dimensions": [64, 1], "Format/Datatype": "Float"}],
               "Outputs": [{"Name": "a", "Dimensions": [1, 256], "Format/Datatype": "Half"}],
               "Metadata": "[ONNX Layer: Gemm_0]\\u001f[ONNX Layer: Relu_1]"},
              {"Name": "Gemm_5 [profile 1]_myl1_3", "LayerType": "gemm",
               "Outputs": [{"Name": "b", "Dimensions": [-1, 1], "Format/Datatype": "Float"}],
               "Metadata": "[ONNX Layer: Gemm_5]"},
              {"Name": "__mye10547_0_myl0_0", "LayerType": "shape_call", "Inputs": [], "Outputs": [], "Metadata": ""}
            ], "Bindings": ["features", "score"]}
            """;

    @Test
    void countsLayersFusionsAndPrecisions() {
        String s = LayerReport.summary(JSON);
        assertTrue(s.startsWith("3 engine layers over all profiles, 1 of them fused from several ONNX nodes (3 ONNX nodes covered)"), s);
        assertTrue(s.contains("output precision {?=1, fp16=1, fp32=1}"), s);
        assertTrue(s.contains("types {gemm=1, kgen=1, shape_call=1}"), s);
    }

    @Test
    void unreadableReportsSaySo() {
        assertEquals("no layer information", LayerReport.summary("{}"));
        assertTrue(LayerReport.summary("not json").startsWith("layer report unreadable"));
    }
}
