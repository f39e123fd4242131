package dev.dmalab.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.iommuhw.IommuContext;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.scenario.Outcome;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.Scenario;
import dev.dmalab.scenario.ScenarioLibrary;
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
        for (Scenario c : corpus()) {
            for (String p : Platforms.BUILT_IN) {
                for (String k : kernels(p)) {
                    out.add(Arguments.of(c.name(), p, k));
                }
            }
        }
        return out;
    }

    /** The checker corpus: the built-in scenarios that name the finding their buggy variant yields. */
    static List<Scenario> corpus() {
        return ScenarioLibrary.all().stream().filter(s -> s.expect() != null).toList();
    }

    private static Scenario caseNamed(String name) {
        return ScenarioLibrary.byName(name);
    }

    @org.junit.jupiter.api.Test
    void theCorpusHasOneScenarioPerCategoryWithItsFixedTwin() {
        // SG_SEGMENT_BOUNDARY has no corpus scenario: whether a segment crosses the boundary depends on where its
        // bounce slot or IOVA lands, so no one case bites on every platform; DmaCheckerTest covers it.
        List<Category> all = new ArrayList<>(List.of(Category.values()));
        all.remove(Category.SG_SEGMENT_BOUNDARY);
        assertThat(corpus().stream().map(Scenario::expect).toList()).containsExactlyInAnyOrderElementsOf(all);
        for (Scenario s : corpus()) {
            assertThat(s.name()).isEqualTo("check-" + s.expect().id());
            assertThat(s.variants()).containsExactly("buggy", "fixed");
        }
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
        Scenario c = caseNamed(name);
        Machine m = boot(platform, kernel);
        boolean bites = c.bites(m);
        RunResult r = WorkloadRunner.run(Workloads.byName(name), m, 1);
        assertThat(r.oops()).as("oops").isNull();
        Set<String> expected = new TreeSet<>();
        if (bites) {
            expected.add(c.expect().id());
        }
        // A buffer sharing a cache line with live data shares its IOMMU page with it too: behind a translating
        // IOMMU that exposure is real, and it is all that is reported where the sharing itself cannot bite.
        if (c.expect() == Category.CACHELINE_SHARING && translated(c.firstDevice(m))) {
            expected.add(Category.SUBPAGE_EXPOSURE.id());
        }
        assertThat(categories(r)).as("%s", r.checks()).isEqualTo(expected);
        assertThat(r.outcome())
                .isEqualTo(!c.runs(m) ? Outcome.UNSUPPORTED : expected.isEmpty() ? Outcome.OK : Outcome.FAILED);
        if (!c.runs(m)) {
            assertThat(r.unsupported()).isNotBlank();
            assertThat(r.counters()).containsEntry("dma_map_calls", 0L);
        }
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
