package dev.dmalab.scenario;

import dev.dmalab.device.Device;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.platform.Machine;
import java.util.ArrayList;
import java.util.List;

/**
 * One variant of a scenario as a workload: runs the steps on each device the scenario selects (each device with
 * fresh names), inside the scenario's entry function when it names one. A failed map ends the run on that device
 * (the driver's error path), and the run goes on with the next device.
 */
public final class ScenarioWorkload implements Workload {
    private final Scenario scenario;
    private final String variant;

    public ScenarioWorkload(Scenario scenario, String variant) {
        if (!scenario.variants().contains(variant)) {
            throw new IllegalArgumentException("no variant " + variant + " in " + scenario.name());
        }
        this.scenario = scenario;
        this.variant = variant;
    }

    public Scenario scenario() {
        return scenario;
    }

    public String variant() {
        return variant;
    }

    @Override
    public String name() {
        return scenario.workloadName(variant);
    }

    @Override
    public String description() {
        String own = scenario.variantDescriptions().get(variant);
        if (own != null) {
            return own;
        }
        String d = scenario.description();
        return variant.equals(scenario.variants().get(0)) ? d : d + " [" + variant + "]";
    }

    /** Every variant of a scenario, first one first. */
    public static List<Workload> of(Scenario s) {
        List<Workload> out = new ArrayList<>();
        for (String v : s.variants()) {
            out.add(new ScenarioWorkload(s, v));
        }
        return out;
    }

    @Override
    public void run(WorkloadContext ctx) {
        Machine m = ctx.machine();
        if (!scenario.runs(m)) {
            ctx.unsupported(whyNot(m));
            return;
        }
        if (scenario.devices().none()) {
            runOn(ctx, null);
        } else {
            for (Device dev : scenario.devices().on(m)) {
                runOn(ctx, dev);
            }
        }
    }

    private void runOn(WorkloadContext ctx, Device dev) {
        ScenarioRun r = new ScenarioRun(scenario, variant, ctx, dev);
        Kernel k = ctx.machine().kernel();
        if (scenario.entry() != null) {
            k.enterFunction(scenario.entry());
        }
        try {
            Step.runAll(scenario.steps(), r);
        } catch (ScenarioRun.Stop stop) {
            // the failure is recorded; the driver's error path ends the run on this device
        } finally {
            if (scenario.entry() != null) {
                k.leaveFunction();
            }
        }
        if (r.sata != null) {
            r.sata.count();
        }
    }

    /** Why the scenario does not run on {@code m}, in one phrase. */
    String whyNot(Machine m) {
        Scenario.Devices d = scenario.devices();
        if (!d.none() && d.on(m).isEmpty()) {
            StringBuilder sb = new StringBuilder("no device of " + m.profile().name() + " is ");
            sb.append(
                    switch (d.need()) {
                        case ANY -> "any";
                        case NON_COHERENT -> "non-coherent";
                        case IOMMU -> "behind a translating IOMMU";
                        case PCI -> "a PCI function";
                    });
            if (!d.drivers().isEmpty()) {
                sb.append(" with driver ").append(String.join(" or ", d.drivers()));
            }
            return sb.toString();
        }
        Scenario.Requires q = scenario.requires();
        List<String> lacks = new ArrayList<>();
        for (Feature f : q.features()) {
            if (!m.kernel().has(f)) {
                lacks.add(f.name());
            }
        }
        String why = lacks.isEmpty() ? "" : "Linux " + m.version().name() + " lacks " + String.join(", ", lacks);
        if (q.arch() != null && m.kernel().arch() != q.arch()) {
            why += (why.isEmpty() ? "" : "; ") + "it needs " + q.arch().kernelName();
        }
        return why;
    }
}
