// The tests share one machine's cores with the server under test; running test classes one at a time keeps the
// slow-job tests' assumptions (a job is still running when canceled) true and the numbers readable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
