package dev.dmalab.platform;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The built-in platform profiles, and lookup of a platform by built-in name or profile file path. */
public final class Platforms {
    /** Built-in profiles, in the order {@code dmalab platforms} lists them. */
    public static final List<String> BUILT_IN = List.of(
            "x86-q35",
            "x86-q35-vtd",
            "x86-q35-vtd-lazy",
            "x86-q35-vtd-pt",
            "arm64-virt",
            "arm64-smmuv3",
            "arm64-noncoherent",
            "rpi4",
            "juno-r2",
            "juno-r2-xen-dom0",
            "arm32-xen-dom0",
            "x86-xen-pv-dom0",
            "arm64-virt-xen-dom0");

    private Platforms() {}

    /** Loads the built-in profile {@code name}. */
    public static PlatformProfile builtIn(String name) {
        if (!BUILT_IN.contains(name)) {
            throw new IllegalArgumentException("unknown platform '" + name + "' (built-in: "
                    + String.join(", ", BUILT_IN) + ", or a path to a profile .yaml)");
        }
        String resource = "/platforms/" + name + ".yaml";
        InputStream in = Platforms.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("built-in profile missing from the build: " + resource);
        }
        return ProfileLoader.load(name + ".yaml", in);
    }

    /** The text of the built-in profile {@code name}, or of the profile file at that path. */
    public static String text(String nameOrPath) {
        try {
            if (BUILT_IN.contains(nameOrPath)) {
                try (InputStream in = Platforms.class.getResourceAsStream("/platforms/" + nameOrPath + ".yaml")) {
                    return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                }
            }
            Path p = Path.of(nameOrPath);
            if (Files.isRegularFile(p)) {
                return Files.readString(p);
            }
        } catch (java.io.IOException e) {
            throw new InputException(nameOrPath, 0, null, "cannot read: " + e.getMessage());
        }
        if (nameOrPath.endsWith(".yaml") || nameOrPath.endsWith(".yml")) {
            throw new InputException(nameOrPath, 0, null, "no such profile file"); // as load() says it
        }
        throw new IllegalArgumentException("unknown platform '" + nameOrPath + "' (built-in: "
                + String.join(", ", BUILT_IN) + ", or a path to a profile .yaml)");
    }

    /** The built-in profile {@code nameOrPath}, or the profile file at that path. */
    public static PlatformProfile load(String nameOrPath) {
        if (BUILT_IN.contains(nameOrPath)) {
            return builtIn(nameOrPath);
        }
        Path p = Path.of(nameOrPath);
        if (nameOrPath.endsWith(".yaml") || nameOrPath.endsWith(".yml") || Files.exists(p)) {
            return ProfileLoader.load(p);
        }
        return builtIn(nameOrPath);
    }

    /** Every built-in profile. */
    public static List<PlatformProfile> all() {
        List<PlatformProfile> out = new ArrayList<>();
        for (String n : BUILT_IN) {
            out.add(builtIn(n));
        }
        return out;
    }
}
