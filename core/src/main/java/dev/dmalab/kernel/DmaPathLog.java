package dev.dmalab.kernel;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Which path served each DMA API call — what {@code dmalab explain} prints. Off by default: the DMA core and the
 * backends check {@link #enabled()} before they build any text, so the hot paths stay allocation-free.
 *
 * <p>The core opens an entry per call ({@link #call}: the entry point, the device and the dispatch target);
 * backends add notes to it ({@link #note}: a bounce and its slot, a page-coherent hook, a hypercall, an exchange).
 */
public final class DmaPathLog {
    /** One DMA API call and what served it. */
    public record Call(int seq, String api, String device, String route, List<String> notes) {
        @Override
        public String toString() {
            return api + "(" + device + ") -> " + route + (notes.isEmpty() ? "" : ": " + String.join("; ", notes));
        }
    }

    private boolean enabled;
    private final List<Call> calls = new ArrayList<>();

    public boolean enabled() {
        return enabled;
    }

    /** Starts recording. */
    public void enable() {
        enabled = true;
    }

    /** Opens the entry of a DMA API call. */
    public void call(String api, String device, String route) {
        if (enabled) {
            calls.add(new Call(calls.size() + 1, api, device, route, new ArrayList<>()));
        }
    }

    /** Adds what a backend did to the current call (ignored outside a call or when not recording). */
    public void note(String text) {
        if (enabled && !calls.isEmpty()) {
            calls.get(calls.size() - 1).notes().add(text);
        }
    }

    /** The calls recorded, in order. */
    public List<Call> calls() {
        return Collections.unmodifiableList(calls);
    }
}
