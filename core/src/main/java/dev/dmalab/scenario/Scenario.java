package dev.dmalab.scenario;

import dev.dmalab.check.Category;
import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.iommuhw.IommuContext;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Feature;
import dev.dmalab.platform.Machine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A parsed scenario file (see {@code docs/SCENARIOS.md} for the language): what a driver and its device do, as
 * steps, with which devices it runs on, what it needs of the kernel, and — for the checker's corpus — the finding
 * its first variant must yield.
 *
 * @param name the name of the first variant; the others are {@code name-variant}
 * @param file where it was read from (a path, or {@code scenarios/NAME.yaml} for the built-in library)
 * @param source the file's text, as {@code dmalab scenarios show} prints it
 * @param variants the variant names, at least one ({@code default} when the file declares none)
 * @param variantDescriptions the one-line descriptions variants give of themselves (the others have none)
 * @param entry the driver function the steps run in (on the call chain of findings and Oops reports), or null
 * @param expect the checker finding the first variant yields wherever the bug bites, or null
 * @param vars constants the expressions may read, in file order
 */
public record Scenario(
        String name,
        String description,
        String file,
        String source,
        List<String> variants,
        Map<String, String> variantDescriptions,
        Devices devices,
        Requires requires,
        String entry,
        Category expect,
        Map<String, Long> vars,
        List<Step> steps) {

    public Scenario {
        variants = List.copyOf(variants);
        variantDescriptions = Map.copyOf(variantDescriptions);
        vars = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(vars));
        steps = List.copyOf(steps);
    }

    /** The workload name of {@code variant}: the scenario's name for the first, {@code name-variant} otherwise. */
    public String workloadName(String variant) {
        return variant.equals(variants.get(0)) ? name : name + "-" + variant;
    }

    /** What kind of device the steps need. */
    public enum Need {
        ANY,
        NON_COHERENT,
        IOMMU,
        PCI;

        boolean fits(Device d) {
            return switch (this) {
                case ANY -> true;
                case NON_COHERENT -> !d.dmaCoherent();
                case IOMMU -> d.iommuContext() != null && d.iommuContext().kind() == IommuContext.Kind.TRANSLATED;
                case PCI -> d.bus() == BusType.PCI;
            };
        }
    }

    /**
     * Which devices the steps run on.
     *
     * @param need the kind of device
     * @param drivers when not empty, only devices whose driver is one of these
     * @param each run the steps once per fitting device (in the platform's order), else on the first only
     * @param otherwiseFirst when no device fits, run on the platform's first device (where the bug cannot bite and
     *     the run must stay silent) instead of not running
     */
    public record Devices(Need need, List<String> drivers, boolean each, boolean otherwiseFirst, boolean none) {
        public static final Devices EACH = new Devices(Need.ANY, List.of(), true, false, false);
        /** The steps drive the machine's own drivers (the seed boot): they run once, on no device in particular. */
        public static final Devices NONE = new Devices(Need.ANY, List.of(), false, false, true);

        public Devices(Need need, List<String> drivers, boolean each, boolean otherwiseFirst) {
            this(need, drivers, each, otherwiseFirst, false);
        }

        public Devices {
            drivers = List.copyOf(drivers);
        }

        boolean fits(Device d) {
            return need.fits(d) && (drivers.isEmpty() || drivers.contains(d.driverName()));
        }

        /** The devices the steps run on, in order; empty when the scenario has none to run on. */
        public List<Device> on(Machine m) {
            List<Device> out = new ArrayList<>();
            if (none) {
                return out;
            }
            for (Device d : m.devices()) {
                if (fits(d)) {
                    out.add(d);
                    if (!each) {
                        break;
                    }
                }
            }
            if (out.isEmpty() && otherwiseFirst && !m.devices().isEmpty()) {
                out.add(m.devices().iterator().next());
            }
            return out;
        }
    }

    /**
     * What the modelled kernel must have for the scenario to do what it is about.
     *
     * @param features kernel feature switches that must all be on
     * @param arch the architecture, or null for any
     * @param otherwiseRun when the kernel lacks them, still run (the bug cannot bite there and the run must stay
     *     silent) instead of not running
     */
    public record Requires(List<Feature> features, ArchKind arch, boolean otherwiseRun) {
        public static final Requires NOTHING = new Requires(List.of(), null, true);

        public Requires {
            features = List.copyOf(features);
        }

        public boolean holds(Machine m) {
            for (Feature f : features) {
                if (!m.kernel().has(f)) {
                    return false;
                }
            }
            return arch == null || m.kernel().arch() == arch;
        }
    }

    /** Whether the scenario runs on {@code m} at all (else its outcome is unsupported). */
    public boolean runs(Machine m) {
        return (devices.none() || !devices.on(m).isEmpty()) && (requires.otherwiseRun() || requires.holds(m));
    }

    /**
     * Whether the scenario's bug bites on {@code m}: it runs on a device that fits, on a kernel that has what it
     * needs. Where it does, the first variant of a corpus scenario must yield its {@link #expect} finding.
     */
    public boolean bites(Machine m) {
        if (devices.none()) {
            return requires.holds(m);
        }
        List<Device> on = devices.on(m);
        return !on.isEmpty() && devices.fits(on.get(0)) && requires.holds(m);
    }

    /** The device the scenario runs on first, or null. */
    public Device firstDevice(Machine m) {
        List<Device> on = devices.on(m);
        return on.isEmpty() ? null : on.get(0);
    }
}
