package dev.dmalab.kernel;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A modelled kernel version and the {@link Feature}s it has.
 *
 * <p>The built-in versions are the ones the model has been written and checked for: 4.20 (before the bypass),
 * 5.0-rc2 (the seed regression), 5.0 (the fix), 5.4 (the swiotlb-xen rework) and 6.12 (the captures; its
 * tracepoint formats are those of the 6.12.y stable kernels the captures come from).
 */
public final class KernelVersion implements Comparable<KernelVersion> {
    private static final Pattern FORMAT = Pattern.compile("(\\d+)\\.(\\d+)(?:-rc(\\d+))?");

    public static final KernelVersion V4_20 = new KernelVersion("4.20", "last release before the dma-direct bypass");
    public static final KernelVersion V5_0_RC2 =
            new KernelVersion("5.0-rc2", "the seed regression: NULL ops = direct, Xen arm64 still asks for native ops");
    public static final KernelVersion V5_0 =
            new KernelVersion("5.0", "the bypass with the arm64 Xen fix (60d8cd572f65)");
    public static final KernelVersion V5_4 =
            new KernelVersion("5.4", "swiotlb-xen cleanups; arm64 FROM_DEVICE invalidate");
    public static final KernelVersion V6_12 =
            new KernelVersion("6.12", "swiotlb areas, dma:* tracepoints, dma-iommu direct calls (6.12.y as captured)");

    private static final List<KernelVersion> BUILT_IN = List.of(V4_20, V5_0_RC2, V5_0, V5_4, V6_12);

    private final String name;
    private final String description;
    private final int key;
    private final Set<Feature> features;

    private KernelVersion(String name, String description) {
        this.name = name;
        this.description = description;
        this.key = keyOf(name);
        EnumSet<Feature> set = EnumSet.noneOf(Feature.class);
        for (Feature f : Feature.values()) {
            boolean after = f.since() == null || key >= keyOf(f.since());
            boolean before = f.until() == null || key < keyOf(f.until());
            if (after && before) {
                set.add(f);
            }
        }
        this.features = Collections.unmodifiableSet(set);
    }

    /** Orders versions: 5.0-rc1 < 5.0-rc2 < 5.0 < 5.1. */
    static int keyOf(String version) {
        Matcher m = FORMAT.matcher(version);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a kernel version: " + version);
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        int rc = m.group(3) == null ? 99 : Integer.parseInt(m.group(3));
        return major * 10000 + minor * 100 + rc;
    }

    public static List<KernelVersion> builtIn() {
        return BUILT_IN;
    }

    /**
     * Looks up a built-in version by name ({@code 6.12}, {@code 5.0-rc2}; a leading {@code v} is accepted).
     *
     * @throws IllegalArgumentException naming the known versions
     */
    public static KernelVersion parse(String text) {
        String t = text.trim();
        if (t.startsWith("v")) {
            t = t.substring(1);
        }
        for (KernelVersion v : BUILT_IN) {
            if (v.name.equals(t)) {
                return v;
            }
        }
        List<String> names = new ArrayList<>();
        for (KernelVersion v : BUILT_IN) {
            names.add(v.name);
        }
        throw new IllegalArgumentException("unknown kernel '" + text + "' (known: " + String.join(", ", names) + ")");
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    public boolean has(Feature feature) {
        return features.contains(feature);
    }

    public Set<Feature> features() {
        return features;
    }

    /** The {@code uname -r}-like release string used in Oops banners. */
    public String release() {
        int dash = name.indexOf('-');
        String base = dash < 0 ? name : name.substring(0, dash);
        String suffix = dash < 0 ? "" : name.substring(dash);
        return base + ".0" + suffix + "-dmalab";
    }

    @Override
    public int compareTo(KernelVersion o) {
        return Integer.compare(key, o.key);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KernelVersion v && v.key == key;
    }

    @Override
    public int hashCode() {
        return key;
    }

    @Override
    public String toString() {
        return name;
    }
}
