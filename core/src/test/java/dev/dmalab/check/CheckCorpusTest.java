package dev.dmalab.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.iommuhw.IommuContext;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.scenario.CheckCorpus;
import dev.dmalab.scenario.Outcome;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.Workload;
import dev.dmalab.scenario.WorkloadRunner;
import dev.dmalab.scenario.Workloads;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The checker's corpus on every built-in platform with its default kernel: each buggy driver yields exactly its
 * own finding where the bug bites and nothing where it cannot (the arch-aware classes on coherent or IOMMU-less
 * machines); each fixed twin yields nothing anywhere. Every dma-debug error is reported ({@code all_errors}), so
 * that a second finding cannot hide behind the first.
 */
class CheckCorpusTest {
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (CheckCorpus.Case c : CheckCorpus.cases()) {
            for (String p : Platforms.BUILT_IN) {
                for (String k : kernels(p)) {
                    out.add(Arguments.of(c.name(), p, k));
                }
            }
        }
        return out;
    }

    private static CheckCorpus.Case caseNamed(String name) {
        return CheckCorpus.cases().stream()
                .filter(c -> c.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    /**
     * 6.12, and the platform's default kernel where that differs — except where the default is the seed
     * regression, on which every DMA call of dom0 crashes before a driver can make its mistake.
     */
    static List<String> kernels(String platform) {
        KernelVersion def = Platforms.builtIn(platform).defaultKernel();
        List<String> out = new ArrayList<>(List.of(KernelVersion.V6_12.name()));
        boolean seed = def == KernelVersion.V5_0_RC2 && platform.startsWith("juno-r2-xen");
        if (def != KernelVersion.V6_12 && !seed) {
            out.add(def.name());
        }
        return out;
    }

    private static Machine boot(String platform, String kernel) {
        Machine m = Machine.boot(Platforms.builtIn(platform), KernelVersion.parse(kernel));
        m.attachChecker(CheckOptions.DEFAULT.withAllErrors(true));
        return m;
    }

    private static boolean translated(Device d) {
        return d != null && d.iommuContext() != null && d.iommuContext().kind() == IommuContext.Kind.TRANSLATED;
    }

    private static Set<String> categories(RunResult r) {
        return r.checks().stream().map(f -> f.category().id()).collect(Collectors.toCollection(TreeSet::new));
    }

    @ParameterizedTest(name = "{0} on {1} {2}")
    @MethodSource("cases")
    void buggyYieldsExactlyItsOwnFindingWhereItBites(String name, String platform, String kernel) {
        CheckCorpus.Case c = caseNamed(name);
        Machine m = boot(platform, kernel);
        boolean bites = c.bites(m);
        RunResult r = WorkloadRunner.run(Workloads.byName(name), m, 1);
        assertThat(r.oops()).as("oops").isNull();
        Set<String> expected = new TreeSet<>();
        if (bites) {
            expected.add(c.category().id());
        }
        // A buffer sharing a cache line with live data shares its IOMMU page with it too: behind a translating
        // IOMMU that exposure is real, and it is all that is reported where the sharing itself cannot bite.
        if (c.category() == Category.CACHELINE_SHARING && translated(c.device(m))) {
            expected.add(Category.SUBPAGE_EXPOSURE.id());
        }
        assertThat(categories(r)).as("%s", r.checks()).isEqualTo(expected);
        assertThat(r.outcome()).isEqualTo(expected.isEmpty() ? Outcome.OK : Outcome.FAILED);
    }

    @ParameterizedTest(name = "{0}-fixed on {1} {2}")
    @MethodSource("cases")
    void fixedTwinYieldsNothing(String name, String platform, String kernel) {
        Machine m = boot(platform, kernel);
        Workload w = Workloads.byName(name + "-fixed");
        RunResult r = WorkloadRunner.run(w, m, 1);
        assertThat(r.oops()).isNull();
        assertThat(r.checks()).as("%s", r.checks()).isEmpty();
        assertThat(r.failures()).isEmpty();
    }
}
