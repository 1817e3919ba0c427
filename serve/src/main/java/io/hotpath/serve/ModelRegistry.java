package io.hotpath.serve;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models a server answers for, by name and version, and the server's own state: not ready
 * while models load, ready, then draining after SIGTERM (not ready again; accepted requests are
 * still answered). The transports read it; {@code HotpathServer} writes it.
 */
public final class ModelRegistry {
    /** The server's state, as the health endpoints report it. */
    public enum State { LOADING, READY, DRAINING, STOPPED }

    private final Map<String, TreeMap<String, ServedModel>> models = new ConcurrentHashMap<>();
    private volatile State state = State.LOADING;

    public State state() {
        return state;
    }

    public void state(State s) {
        this.state = s;
    }

    /** Live: the process answers (every state but STOPPED). */
    public boolean live() {
        return state != State.STOPPED;
    }

    /** Ready: every model loaded and the server is not draining. */
    public boolean ready() {
        return state == State.READY;
    }

    public synchronized void add(ServedModel m) {
        models.computeIfAbsent(m.name(), k -> new TreeMap<>(ModelRegistry::compareVersions)).put(m.version(), m);
    }

    /**
     * Model {@code name} at {@code version}, or at its newest version when {@code version} is null
     * or empty; null when there is none.
     */
    public ServedModel find(String name, String version) {
        TreeMap<String, ServedModel> v = models.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (version == null || version.isEmpty()) {
            return v.lastEntry().getValue();
        }
        return v.get(version);
    }

    /** Versions of {@code name}, oldest first; empty when unknown. */
    public List<String> versions(String name) {
        TreeMap<String, ServedModel> v = models.get(name);
        return v == null ? List.of() : new ArrayList<>(v.keySet());
    }

    public Collection<ServedModel> all() {
        List<ServedModel> all = new ArrayList<>();
        for (TreeMap<String, ServedModel> v : new TreeMap<>(models).values()) {
            all.addAll(v.values());
        }
        return all;
    }

    /** Numeric versions compare as numbers ("10" after "9"); others as text after them. */
    static int compareVersions(String a, String b) {
        boolean na = a.chars().allMatch(Character::isDigit) && !a.isEmpty() && a.length() < 19;
        boolean nb = b.chars().allMatch(Character::isDigit) && !b.isEmpty() && b.length() < 19;
        if (na && nb) {
            return Long.compare(Long.parseLong(a), Long.parseLong(b));
        }
        return na ? -1 : nb ? 1 : a.compareTo(b);
    }
}
