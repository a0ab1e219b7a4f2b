/**
 * The unified model: the entities mappings write to and the typed fields each one has.
 * Mapping validation checks target fields and types against this; the `unified` schema in
 * `sql/postgres/` has a column per field (a test keeps the two equal).
 */

export type FieldType =
  | 'string'
  | 'text'
  | 'integer'
  /** Exact decimal, carried as a string (money). */
  | 'decimal'
  | 'boolean'
  /** An instant: ISO-8601 with offset. */
  | 'datetime'
  /** A calendar date: YYYY-MM-DD. */
  | 'date'
  /** Normalized email (lower case, trimmed). */
  | 'email'
  /** Normalized phone (E.164). */
  | 'phone'
  /** Structured value (order lines, raw extras): stored as jsonb. */
  | 'json';

export interface FieldSpec {
  type: FieldType;
  /** Allowed values, for enums (`status`). */
  values?: readonly string[];
  description: string;
}

export type TargetName = 'customer' | 'order' | 'ticket' | 'crm_profile';

export interface TargetSpec {
  description: string;
  fields: Readonly<Record<string, FieldSpec>>;
  /**
   * Fields of this target that feed the customer's golden record (survivorship decides
   * between sources). The customer target feeds all of its fields.
   */
  golden: readonly string[];
}

const ORDER_STATUS = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
const TICKET_STATUS = ['open', 'pending', 'resolved', 'closed'] as const;
const TICKET_PRIORITY = ['low', 'normal', 'high', 'urgent'] as const;

const customerFields = {
  name: { type: 'string', description: 'full name as the customer gave it' },
  email: { type: 'email', description: 'primary email' },
  phone: { type: 'phone', description: 'primary mobile, E.164' },
  nickname: { type: 'string', description: 'app or social nickname' },
  gender: { type: 'string', values: ['female', 'male', 'other'], description: 'as declared' },
  birthday: { type: 'date', description: 'date of birth' },
  province: { type: 'string', description: 'province or state' },
  city: { type: 'string', description: 'city' },
  address: { type: 'text', description: 'postal address, one line' },
  vip_level: { type: 'string', description: 'loyalty or CRM tier' },
  account_manager: { type: 'string', description: 'CRM account manager' },
  created_at: { type: 'datetime', description: 'when the source first saw the customer' },
  updated_at: { type: 'datetime', description: 'last change in the source' },
} as const satisfies Record<string, FieldSpec>;

export const TARGETS: Readonly<Record<TargetName, TargetSpec>> = {
  customer: {
    description: 'a person as one source knows them; merged into the golden record',
    fields: customerFields,
    golden: Object.keys(customerFields),
  },
  crm_profile: {
    description: 'the CRM record of a customer',
    fields: {
      crm_id: { type: 'string', description: 'CRM customer number' },
      name: customerFields.name,
      email: customerFields.email,
      phone: customerFields.phone,
      vip_level: customerFields.vip_level,
      account_manager: customerFields.account_manager,
      updated_at: customerFields.updated_at,
    },
    golden: ['name', 'email', 'phone', 'vip_level', 'account_manager'],
  },
  order: {
    description: 'an order, linked to its customer through identity keys',
    fields: {
      order_no: { type: 'string', description: 'the order number in the source' },
      status: { type: 'string', values: ORDER_STATUS, description: 'unified order status' },
      total_amount: { type: 'decimal', description: 'order total' },
      currency: { type: 'string', description: 'ISO 4217 code' },
      contact_phone: { type: 'phone', description: 'phone given with the order' },
      lines: { type: 'json', description: 'order lines: [{ sku, name, qty, unit_price }]' },
      ordered_at: { type: 'datetime', description: 'when the order was placed' },
      updated_at: { type: 'datetime', description: 'last change in the source' },
    },
    golden: [],
  },
  ticket: {
    description: 'a support ticket, linked to its customer through identity keys',
    fields: {
      ticket_no: { type: 'string', description: 'the ticket id in the source' },
      subject: { type: 'string', description: 'subject line' },
      body: { type: 'text', description: 'first message' },
      status: { type: 'string', values: TICKET_STATUS, description: 'unified ticket status' },
      priority: { type: 'string', values: TICKET_PRIORITY, description: 'unified priority' },
      created_at: { type: 'datetime', description: 'when the ticket was opened' },
      updated_at: { type: 'datetime', description: 'last change in the source' },
      first_response_at: { type: 'datetime', description: 'first agent answer' },
      resolved_at: { type: 'datetime', description: 'when it was resolved' },
    },
    golden: [],
  },
};

/** Identity kinds whose values are normalized before linking. */
export type NormalizeKind = 'email' | 'phone';
