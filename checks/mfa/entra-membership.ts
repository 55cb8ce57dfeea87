/**
 * @fileoverview Who a Conditional Access policy's groups and roles hold, from Graph's shapes, so the policy rules judge the
 * users an exclusion removes rather than the group's name:
 *
 * - `groups`: `{ <groupId>: GET /groups/{id}/transitiveMembers response ({ value: [...] }) or its array }` — users of nested
 *   groups included, as `transitiveMembers` returns them. A page with `@odata.nextLink` leaves that group unresolved.
 * - `directoryRoles`: `GET /directoryRoles` items, each with its `members` (the live pull's shape). Policies name roles by
 *   template id (`roleTemplateId`). The list holds every activated role, so a role absent from it has no members; a role
 *   member that is a group (a role-assignable group) counts with that group's members, when `groups` has them.
 *
 * Answers are three-valued: a group or role with unknown members leaves `undefined`, which no rule reads as a pass.
 * Ids compare case-insensitively (Graph GUIDs).
 */

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const lc = (s: string): string => s.toLowerCase()

/** The users of one group or role (lower-case object ids). */
export interface Members {
  readonly name?: string
  readonly users: ReadonlySet<string>
}

/** Resolved groups and roles of one tenant. */
export interface Membership {
  /** Group id → its users (transitive). Groups absent are unresolved. */
  readonly groups: ReadonlyMap<string, Members>
  /** Role template id → its users; undefined when no role list was read (every role unresolved). */
  readonly roles?: ReadonlyMap<string, Members>
  /** Roles whose members include a group not in `groups` (their users are not known). */
  readonly unresolvedRoles: ReadonlySet<string>
  /** User id → userPrincipalName, from member records (for messages). */
  readonly logins: ReadonlyMap<string, string>
  /** userPrincipalName (lower case) → user id. */
  readonly ids: ReadonlyMap<string, string>
  /** Users known to be members (`userType: Member`), not guests: a policy excluding guests still covers them. */
  readonly members: ReadonlySet<string>
  /** Groups whose member list is only partly there (a page with a next link), for the `incomplete` sentence. */
  readonly partial: readonly string[]
}

/** No group or role resolved (an export without `groups` and `directoryRoles`). */
export const NO_MEMBERSHIP: Membership = { groups: new Map(), unresolvedRoles: new Set(), logins: new Map(), ids: new Map(), members: new Set(), partial: [] }

const USER = '#microsoft.graph.user'
const GROUP = '#microsoft.graph.group'

/** A directoryObject's kind: `user`, `group` or something else (devices, service principals, contacts). */
function kindOf(o: Json): 'user' | 'group' | 'other' {
  const t = typeof o['@odata.type'] === 'string' ? o['@odata.type'] : undefined
  if (t === USER) return 'user'
  if (t === GROUP) return 'group'
  // An export trimmed by $select may drop the type: a userPrincipalName says user.
  if (t === undefined && typeof o.userPrincipalName === 'string') return 'user'
  return 'other'
}

/** A `{ value }` response or an array → its items and whether a next page is missing. */
function list(v: unknown): { items: unknown[]; more: boolean } | undefined {
  if (Array.isArray(v)) return { items: v, more: false }
  if (isObj(v) && Array.isArray(v.value)) return { items: v.value, more: v['@odata.nextLink'] !== undefined && v['@odata.nextLink'] !== null }
  if (isObj(v) && Array.isArray(v.members)) return { items: v.members, more: false }
  return undefined
}

/**
 * Reads `groups` and `directoryRoles` of an Entra bundle (lower-camel keys). `bad(pointer, expected, got)` makes the input
 * error for a value of the wrong shape.
 */
export function readMembership(data: Json, bad: (ptr: string, expected: string, got: unknown) => Error): Membership {
  const logins = new Map<string, string>()
  const ids = new Map<string, string>()
  const members = new Set<string>()
  const partial: string[] = []
  const userOf = (o: Json): string | undefined => {
    if (typeof o.id !== 'string' || !o.id) return undefined
    const id = lc(o.id)
    if (typeof o.userPrincipalName === 'string' && o.userPrincipalName) {
      logins.set(id, o.userPrincipalName)
      ids.set(lc(o.userPrincipalName), id)
    }
    if (typeof o.userType === 'string' && lc(o.userType) === 'member') members.add(id)
    return id
  }

  const groups = new Map<string, Members>()
  if (data.groups !== undefined) {
    if (!isObj(data.groups)) throw bad('/groups', 'an object { <groupId>: GET /groups/{id}/transitiveMembers response }', data.groups)
    for (const [gid, v] of Object.entries(data.groups)) {
      const l = list(v)
      if (!l) throw bad(`/groups/${gid}`, 'a transitiveMembers response { value: [...] } or an array', v)
      if (l.more) {
        partial.push(`/groups/${gid}/@odata.nextLink`)
        continue
      }
      const users = new Set<string>()
      for (const m of l.items) if (isObj(m) && kindOf(m) === 'user') {
        const id = userOf(m)
        if (id) users.add(id)
      }
      groups.set(lc(gid), { ...(isObj(v) && typeof v.displayName === 'string' ? { name: v.displayName } : {}), users })
    }
  }

  let roles: Map<string, Members> | undefined
  const unresolvedRoles = new Set<string>()
  if (data.directoryRoles !== undefined) {
    const l = list(data.directoryRoles)
    if (!l) throw bad('/directoryRoles', 'a GET /directoryRoles response { value: [...] } whose roles carry their members', data.directoryRoles)
    if (l.more) partial.push('/directoryRoles/@odata.nextLink')
    else {
      roles = new Map()
      l.items.forEach((r, i) => {
        if (!isObj(r)) throw bad(`/directoryRoles/${i}`, 'a directoryRole object', r)
        const tid = typeof r.roleTemplateId === 'string' ? r.roleTemplateId : typeof r.id === 'string' ? r.id : undefined
        if (!tid) throw bad(`/directoryRoles/${i}/roleTemplateId`, 'a role template id', r.roleTemplateId)
        const ml = list(r.members)
        if (!ml || ml.more) {
          unresolvedRoles.add(lc(tid))
          return
        }
        const users = new Set<string>()
        for (const m of ml.items) {
          if (!isObj(m)) continue
          const kind = kindOf(m)
          if (kind === 'user') {
            const id = userOf(m)
            if (id) users.add(id)
          } else if (kind === 'group') {
            const g = typeof m.id === 'string' ? groups.get(lc(m.id)) : undefined
            if (g) for (const u of g.users) users.add(u)
            else unresolvedRoles.add(lc(tid))
          }
        }
        roles!.set(lc(tid), { ...(typeof r.displayName === 'string' ? { name: r.displayName } : {}), users })
      })
    }
  }
  return { groups, ...(roles ? { roles } : {}), unresolvedRoles, logins, ids, members, partial }
}

/** Whether `user` is in group or role `id`: true, false, or undefined when its members are not known. */
export function memberOf(m: Membership, kind: 'group' | 'role', id: string, user: string): boolean | undefined {
  return usersOf(m, kind, id)?.has(user)
}

const NO_USERS: ReadonlySet<string> = new Set()

/** The users of a group or role, or undefined when not known. */
export function usersOf(m: Membership, kind: 'group' | 'role', id: string): ReadonlySet<string> | undefined {
  const key = lc(id)
  if (kind === 'group') return m.groups.get(key)?.users
  if (!m.roles || m.unresolvedRoles.has(key)) return undefined
  // Every activated role is listed: one that is not has no members.
  return m.roles.get(key)?.users ?? NO_USERS
}

/** Display name of a group or role, when the export had it. */
export function nameOf(m: Membership, kind: 'group' | 'role', id: string): string | undefined {
  return (kind === 'group' ? m.groups : m.roles)?.get(lc(id))?.name
}
