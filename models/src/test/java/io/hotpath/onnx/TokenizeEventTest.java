package io.hotpath.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hotpath.models.ModelCatalog;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizing is a request's pre-processing stage: each text tokenized is one hotpath.Tokenize event while a recording takes it. */
class TokenizeEventTest {
    @Test
    void eachTextTokenizedIsOneEventWithItsLengths(@TempDir Path dir) throws Exception {
        WordPieceTokenizer t = ModelCatalog.minilmTokenizer();
        t.encode("not recorded", 16);
        Path file = dir.resolve("tokenize.jfr");
        int[] ids;
        try (Recording rec = new Recording()) {
            rec.enable("hotpath.Tokenize").withoutThreshold();
            rec.start();
            ids = t.encode("The quick brown fox jumps over the lazy dog.", 128);
            t.encode("Hello", 128);
            rec.stop();
            rec.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("hotpath.Tokenize")).toList();
        assertEquals(2, events.size(), events.toString());
        assertEquals(44, events.get(0).getInt("chars"));
        assertEquals(ids.length, events.get(0).getInt("tokens"));
        assertEquals(3, events.get(1).getInt("tokens"), "[CLS] hello [SEP]");
    }
}
