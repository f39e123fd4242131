package dev.dmalab.scenario;

import java.util.ArrayList;
import java.util.List;

/** The built-in workloads, in the order {@code dmalab workloads} lists them. */
public final class Workloads {
    private Workloads() {}

    public static List<Workload> all() {
        return List.of(
                new StreamingRoundtrip(true), new StreamingRoundtrip(false), new DmaNoneBug(), new XenDom0Boot());
    }

    /** The built-in workload {@code name}. */
    public static Workload byName(String name) {
        List<String> names = new ArrayList<>();
        for (Workload w : all()) {
            if (w.name().equals(name)) {
                return w;
            }
            names.add(w.name());
        }
        throw new IllegalArgumentException(
                "unknown workload '" + name + "' (built-in: " + String.join(", ", names) + ")");
    }
}
