using System.Text.Json;
using Microsoft.Data.Sqlite;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Backends.Embedded;

/// <summary>
/// The embedded prediction store: one SQLite file in WAL mode under the data directory. A prediction is one row (its
/// <see cref="JobRecord"/> as JSON plus the columns queries need), so a restart finds every prediction as it was.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite's async methods run synchronously (SQLite has no async I/O), so this class calls the
/// synchronous API and returns completed tasks. Each call opens a pooled connection; WAL lets readers run while
/// the worker writes, and <c>synchronous=NORMAL</c> keeps every committed write across a process crash (only a
/// power loss can lose the last transactions).
/// </remarks>
internal sealed class SqlitePredictionStore : IPredictionStore
{
    private readonly string _connectionString;

    public SqlitePredictionStore(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS predictions (
                id TEXT PRIMARY KEY,
                seq INTEGER NOT NULL UNIQUE,
                owner TEXT NOT NULL,
                status INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                completed_at INTEGER,
                record BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS predictions_owner_seq ON predictions (owner, seq);
            CREATE INDEX IF NOT EXISTS predictions_unfinished ON predictions (status, seq) WHERE status < 2;
            CREATE TABLE IF NOT EXISTS files (
                id TEXT PRIMARY KEY,
                job_id TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                record BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS files_job ON files (job_id);
            CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO counters (name, value) VALUES ('sequence', 0);
            """);
    }

    public Task<long> NextSequenceAsync(CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, "UPDATE counters SET value = value + 1 WHERE name = 'sequence' RETURNING value");
        return Task.FromResult((long)command.ExecuteScalar()!);
    }

    public Task CreateAsync(JobRecord record, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, """
            INSERT INTO predictions (id, seq, owner, status, attempt, completed_at, record)
            VALUES ($id, $seq, $owner, $status, $attempt, $completed, $record)
            """, record);
        command.ExecuteNonQuery();
        return Task.CompletedTask;
    }

    public Task<JobRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT record FROM predictions WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return Task.FromResult(command.ExecuteScalar() is byte[] json ? JobRecord.FromJson(json) : null);
    }

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM predictions WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return Task.FromResult(command.ExecuteNonQuery() == 1);
    }

    public Task<bool> TryUpdateAsync(JobRecord record, int expectedAttempt, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        // Fenced: only the run that owns the row writes it, and a finished prediction stays finished.
        using var command = Command(connection, """
            UPDATE predictions SET status = $status, attempt = $attempt, completed_at = $completed, record = $record
            WHERE id = $id AND attempt = $expected AND status < 2
            """, record);
        command.Parameters.AddWithValue("$expected", expectedAttempt);
        return Task.FromResult(command.ExecuteNonQuery() == 1);
    }

    public Task<(IReadOnlyList<JobRecord> Page, bool More)> ListAsync(string? owner, long? beforeSequence, int count, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, """
            SELECT record FROM predictions WHERE owner = $owner AND seq < $before ORDER BY seq DESC LIMIT $limit
            """);
        command.Parameters.AddWithValue("$owner", owner ?? "");
        command.Parameters.AddWithValue("$before", beforeSequence ?? long.MaxValue);
        command.Parameters.AddWithValue("$limit", count + 1);
        var page = ReadRecords(command);
        var more = page.Count > count;
        if (more)
        {
            page.RemoveAt(count);
        }
        return Task.FromResult<(IReadOnlyList<JobRecord>, bool)>((page, more));
    }

    public Task<(IReadOnlyList<JobRecord> Page, bool More)> ListNewerAsync(string? owner, long afterSequence, int count, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, """
            SELECT record FROM predictions WHERE owner = $owner AND seq > $after ORDER BY seq ASC LIMIT $limit
            """);
        command.Parameters.AddWithValue("$owner", owner ?? "");
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$limit", count + 1);
        var page = ReadRecords(command);
        var more = page.Count > count;
        if (more)
        {
            page.RemoveAt(count);
        }
        page.Reverse();
        return Task.FromResult<(IReadOnlyList<JobRecord>, bool)>((page, more));
    }

    public Task<IReadOnlyList<JobRecord>> UnfinishedAsync(CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT record FROM predictions WHERE status < 2 ORDER BY seq ASC");
        return Task.FromResult<IReadOnlyList<JobRecord>>(ReadRecords(command));
    }

    public Task<IReadOnlyList<JobRecord>> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using var command = Command(connection, "DELETE FROM predictions WHERE completed_at < $cutoff RETURNING record");
        command.Transaction = transaction;
        command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        var removed = ReadRecords(command);
        foreach (var record in removed)
        {
            using var files = Command(connection, "DELETE FROM files WHERE job_id = $job");
            files.Transaction = transaction;
            files.Parameters.AddWithValue("$job", record.Id);
            files.ExecuteNonQuery();
        }
        transaction.Commit();
        return Task.FromResult<IReadOnlyList<JobRecord>>(removed);
    }

    public Task SaveFileAsync(StoredFile file, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, """
            INSERT OR REPLACE INTO files (id, job_id, created_at, record) VALUES ($id, $job, $created, $record)
            """);
        command.Parameters.AddWithValue("$id", file.Id);
        command.Parameters.AddWithValue("$job", file.JobId);
        command.Parameters.AddWithValue("$created", file.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$record", JsonSerializer.SerializeToUtf8Bytes(file, JobRecord.Json));
        command.ExecuteNonQuery();
        return Task.CompletedTask;
    }

    public Task<StoredFile?> GetFileAsync(string id, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT record FROM files WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return Task.FromResult(command.ExecuteScalar() is byte[] json ? JsonSerializer.Deserialize<StoredFile>(json, JobRecord.Json) : null);
    }

    public Task<bool> DeleteFileAsync(string id, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM files WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return Task.FromResult(command.ExecuteNonQuery() == 1);
    }

    public Task<IReadOnlyList<StoredFile>> SweepUploadsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        using var connection = Open();
        using var command = Command(connection, "DELETE FROM files WHERE job_id = '' AND created_at < $cutoff RETURNING record");
        command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        var removed = new List<StoredFile>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            removed.Add(JsonSerializer.Deserialize<StoredFile>((byte[])reader[0], JobRecord.Json)!);
        }
        return Task.FromResult<IReadOnlyList<StoredFile>>(removed);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Per connection: in WAL mode NORMAL syncs at checkpoints, not on every commit (see the class remarks).
        Execute(connection, "PRAGMA synchronous = NORMAL");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = Command(connection, sql);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, JobRecord? record = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        if (record is not null)
        {
            command.Parameters.AddWithValue("$id", record.Id);
            command.Parameters.AddWithValue("$seq", record.Sequence);
            command.Parameters.AddWithValue("$owner", record.Owner ?? "");
            command.Parameters.AddWithValue("$status", (int)record.Status);
            command.Parameters.AddWithValue("$attempt", record.Attempt);
            command.Parameters.AddWithValue("$completed", record.CompletedAt is { } c ? c.ToUnixTimeMilliseconds() : DBNull.Value);
            command.Parameters.AddWithValue("$record", record.ToJson());
        }
        return command;
    }

    private static List<JobRecord> ReadRecords(SqliteCommand command)
    {
        var records = new List<JobRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            records.Add(JobRecord.FromJson((byte[])reader[0]));
        }
        return records;
    }
}
