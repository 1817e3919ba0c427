package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.serve.proto.DataType;
import io.hotpath.serve.proto.ModelConfig;
import io.hotpath.serve.proto.ModelInstanceGroup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The config tree to Triton's ModelConfig message, read the way protobuf's JSON parser reads JSON. */
class GrpcModelConfigTest {
    @Test
    void readsProtoNamesJsonNamesEnumsAndInt64Strings() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", "m");
        c.put("maxBatchSize", 8);                                   // lowerCamel JSON name
        c.put("input", List.of(Map.of("name", "x", "data_type", "TYPE_INT64", "dims", List.of("-1", "16"))));
        c.put("output", List.of(Map.of("name", "y", "dataType", 11, "dims", new long[] {4})));
        c.put("dynamic_batching", Map.of("preferred_batch_size", new int[] {2, 4}, "max_queue_delay_microseconds", "250"));
        c.put("instance_group", List.of(Map.of("kind", "KIND_GPU", "count", 2, "gpus", List.of(0, 1))));
        c.put("response_cache", Map.of("enable", true));
        c.put("optimization", Map.of("priority", "PRIORITY_MAX"));   // outside the subset: left out
        c.put("parameters", Map.of("k", Map.of("string_value", "v")));
        ModelConfig m = GrpcModelConfig.of(c);
        assertEquals("m", m.getName());
        assertEquals(8, m.getMaxBatchSize());
        assertEquals(DataType.TYPE_INT64, m.getInput(0).getDataType());
        assertEquals(List.of(-1L, 16L), m.getInput(0).getDimsList());
        assertEquals(DataType.TYPE_FP32, m.getOutput(0).getDataType());
        assertEquals(List.of(4L), m.getOutput(0).getDimsList());
        assertEquals(List.of(2, 4), m.getDynamicBatching().getPreferredBatchSizeList());
        assertEquals(250, m.getDynamicBatching().getMaxQueueDelayMicroseconds());
        assertEquals(ModelInstanceGroup.Kind.KIND_GPU, m.getInstanceGroup(0).getKind());
        assertEquals(2, m.getInstanceGroup(0).getCount());
        assertEquals(List.of(0, 1), m.getInstanceGroup(0).getGpusList());
        assertTrue(m.getResponseCache().getEnable());
        assertEquals(0, m.getUnknownFields().asMap().size());
    }

    @Test
    void anEmptyOrMissingConfigIsTheDefaultMessage() {
        assertEquals(ModelConfig.getDefaultInstance(), GrpcModelConfig.of(null));
        assertEquals(ModelConfig.getDefaultInstance(), GrpcModelConfig.of(Map.of()));
        assertFalse(GrpcModelConfig.of(Map.of("name", "m")).hasDynamicBatching());
    }

    @Test
    void aValueOfTheWrongKindNamesItsField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GrpcModelConfig.of(Map.of("input", List.of(Map.of("data_type", "TYPE_NOPE")))));
        assertEquals("config field 'input.data_type': 'TYPE_NOPE' is not a DataType", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GrpcModelConfig.of(Map.of("max_batch_size", "many")));
        assertEquals("config field 'max_batch_size' is an integer in ModelConfig, not many", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GrpcModelConfig.of(Map.of("dynamic_batching", 3)));
        assertEquals("config field 'dynamic_batching' is a message in ModelConfig, not 3", e.getMessage());
    }
}
