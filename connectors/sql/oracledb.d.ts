/**
 * The part of node-oracledb (which ships no typings) that the Oracle connector uses. Loaded
 * lazily: `import('oracledb')` runs only when an Oracle source is first used.
 */
declare module 'oracledb' {
  /** A database type token (`oracledb.DB_TYPE_DATE`…); `name` is e.g. `DB_TYPE_DATE`. */
  export interface DbType {
    readonly num: number;
    readonly name: string;
    readonly columnTypeName: string;
  }

  /** Column metadata as `execute()` returns it in `metaData` and passes to a fetchTypeHandler. */
  export interface Metadata {
    name: string;
    dbType?: DbType;
    /** `NUMBER`, `VARCHAR2`, `TIMESTAMP WITH TIME ZONE`, … */
    dbTypeName?: string;
    nullable?: boolean;
    precision?: number;
    scale?: number;
  }

  export interface FetchTypeResult {
    type?: DbType;
    converter?: (value: unknown) => unknown;
  }

  export interface ExecuteOptions {
    outFormat?: number;
    fetchTypeHandler?: (metadata: Metadata) => FetchTypeResult | undefined;
    fetchArraySize?: number;
    prefetchRows?: number;
    maxRows?: number;
  }

  export interface Result {
    rows?: Record<string, unknown>[];
    metaData?: Metadata[];
  }

  export interface Connection {
    /** Milliseconds for each round trip; 0 turns it off. */
    callTimeout: number;
    execute(sql: string, binds?: unknown[] | Record<string, unknown>, options?: ExecuteOptions): Promise<Result>;
    break(): Promise<void>;
    rollback(): Promise<void>;
    close(options?: { drop?: boolean }): Promise<void>;
  }

  export interface Pool {
    getConnection(): Promise<Connection>;
    close(drainTime?: number): Promise<void>;
  }

  export interface PoolAttributes {
    user: string;
    password: string;
    connectString: string;
    poolMin?: number;
    poolMax?: number;
    poolIncrement?: number;
    poolTimeout?: number;
    queueTimeout?: number;
    connectTimeout?: number;
  }

  export interface OracleDb {
    readonly OUT_FORMAT_OBJECT: number;
    readonly STRING: DbType;
    readonly BUFFER: DbType;
    readonly DB_TYPE_DATE: DbType;
    readonly DB_TYPE_TIMESTAMP: DbType;
    readonly DB_TYPE_TIMESTAMP_TZ: DbType;
    readonly DB_TYPE_TIMESTAMP_LTZ: DbType;
    readonly thin: boolean;
    createPool(attributes: PoolAttributes): Promise<Pool>;
    getConnection(attributes: { user: string; password: string; connectString: string }): Promise<Connection>;
  }

  const oracledb: OracleDb;
  export default oracledb;
}
