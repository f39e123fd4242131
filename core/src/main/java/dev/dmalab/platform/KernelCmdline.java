package dev.dmalab.platform;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A kernel command line, split as the kernel splits it (whitespace-separated {@code key=value} or {@code key}
 * tokens; a later token overrides an earlier one with the same key). dmalab interprets the parameters listed in
 * {@link #INTERPRETED}; the rest are kept and reported as not modelled.
 */
public final class KernelCmdline {
    /** Parameters the model acts on. */
    public static final List<String> INTERPRETED =
            List.of("swiotlb", "iommu", "iommu.strict", "iommu.passthrough", "intel_iommu", "iommu.forcedac");

    /** The parameters of {@link #INTERPRETED} that configure the IOMMU (no effect on a machine without one). */
    public static final List<String> IOMMU_PARAMS = INTERPRETED.subList(1, INTERPRETED.size());

    private final String text;
    private final Map<String, String> params = new LinkedHashMap<>();

    private KernelCmdline(String text) {
        this.text = text;
    }

    /** Parses {@code text}; an empty string is an empty command line. */
    public static KernelCmdline parse(String text) {
        KernelCmdline c = new KernelCmdline(text.trim());
        for (String tok : text.trim().split("\\s+")) {
            if (tok.isEmpty()) {
                continue;
            }
            int eq = tok.indexOf('=');
            if (eq < 0) {
                c.params.put(tok, "");
            } else {
                c.params.put(tok.substring(0, eq), tok.substring(eq + 1));
            }
        }
        return c;
    }

    /** This command line followed by {@code more} (whose parameters win). */
    public KernelCmdline append(String more) {
        String joined = (text + " " + more).trim();
        return parse(joined);
    }

    public String text() {
        return text;
    }

    /** The value of {@code key}, or null if absent. */
    public String get(String key) {
        return params.get(key);
    }

    /** Parameters dmalab does not interpret, in order. */
    public List<String> uninterpreted() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (!INTERPRETED.contains(e.getKey())) {
                out.add(e.getValue().isEmpty() ? e.getKey() : e.getKey() + "=" + e.getValue());
            }
        }
        return out;
    }
}
