package io.hotpath.serve;

import com.fasterxml.jackson.core.JsonFactory;

/**
 * What the transports share: the server's name and version as {@code GET /v2} reports them, the
 * protocol extensions it implements, the request size limit, the JSON factory (with its
 * nesting, number and document limits) and the log.
 *
 * @param maxRequestBytes the largest request body or gRPC message accepted; larger ones are refused (413 / RESOURCE_EXHAUSTED)
 */
public record ServerInfo(String name, String version, long maxRequestBytes, JsonFactory jsonFactory, System.Logger log) {
    /** The extensions of the protocol this server implements, as {@code GET /v2} lists them. */
    public static final java.util.List<String> EXTENSIONS = java.util.List.of("binary_tensor_data", "model_configuration", "statistics");

    public static ServerInfo of(String version, long maxRequestBytes) {
        if (maxRequestBytes < 1024 || maxRequestBytes > Integer.MAX_VALUE - 1024) {
            throw io.hotpath.core.HotpathException.invalidArgument("maximum request size " + maxRequestBytes + " outside [1024, "
                    + (Integer.MAX_VALUE - 1024) + "] bytes");
        }
        return new ServerInfo("hotpath", version, maxRequestBytes, InferRequestJson.factory(maxRequestBytes),
                System.getLogger("io.hotpath.serve"));
    }
}
