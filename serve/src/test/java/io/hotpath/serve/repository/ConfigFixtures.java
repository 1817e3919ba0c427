package io.hotpath.serve.repository;

/** Text-format configs the tests share, written for these tests. */
final class ConfigFixtures {
    private ConfigFixtures() {
    }

    /**
     * A text classifier as a Triton user would deploy it: batched with a dynamic sequence axis,
     * dynamic batching with a queue policy, the response cache, a GPU and a CPU instance group,
     * TensorRT at FP16 as the GPU accelerator, ONNX Runtime parameters and a warm-up entry.
     * Line numbers matter to the tests: keep it as it is.
     */
    static final String CLASSIFIER = """
            # sentiment classifier exported from PyTorch, batch and sequence axes dynamic
            name: "classifier"
            platform: "onnxruntime_onnx"
            max_batch_size: 32
            version_policy: { latest: { num_versions: 2 } }

            input [
              {
                name: "input_ids"
                data_type: TYPE_INT64
                dims: [ -1 ]
              },
              {
                name: "attention_mask"
                data_type: TYPE_INT64
                dims: [ -1 ]
                optional: true
              }
            ]
            output [
              {
                name: "logits"
                data_type: TYPE_FP32
                dims: [ 3 ]
              }
            ]

            dynamic_batching {
              preferred_batch_size: [ 8, 16 ]
              max_queue_delay_microseconds: 200
              default_queue_policy {
                timeout_action: REJECT
                default_timeout_microseconds: 50000
                allow_timeout_override: true
                max_queue_size: 256
              }
            }

            response_cache { enable: true }

            instance_group [
              { count: 1, kind: KIND_GPU, gpus: [ 0 ] },
              { name: "cpu_fallback" count: 2 kind: KIND_CPU }
            ]

            optimization {
              graph: { level: 1 }
              execution_accelerators {
                gpu_execution_accelerator : [ {
                  name : "tensorrt"
                  parameters { key: "precision_mode" value: "FP16" }
                  parameters { key: "max_workspace_size_bytes" value: "1073741824" }
                } ]
              }
            }

            parameters { key: "intra_op_thread_count" value: { string_value: "4" } }
            parameters: { key: "cudnn_conv_algo_search" value: { string_value: "HEURISTIC" } }

            model_warmup [
              {
                name: "zeros"
                batch_size: 1
                inputs { key: "input_ids" value: { data_type: TYPE_INT64 dims: [ 16 ] zero_data: true } }
              }
            ]
            """;
}
