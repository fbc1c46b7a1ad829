package tableau

// The Metadata API queries this client sends. Each is validated against
// Tableau's schema (emulator/schema/tableau-metadata.graphql) in a test.
// Pages are ordered by LUID or ID so cursors stay stable while content changes.

// WorkbooksQuery pages through workbooks with their upstream tables.
const WorkbooksQuery = `query Workbooks($first: Int!, $after: String) {
  workbooksConnection(first: $first, after: $after, orderBy: {field: LUID, direction: ASC}) {
    nodes {
      luid
      name
      description
      vizportalUrlId
      projectLuid
      projectName
      updatedAt
      owner { username name email }
      tags { name }
      upstreamTables {
        luid
        name
        schema
        fullName
        connectionType
        database { name connectionType }
      }
      upstreamDatasources { luid name hasExtracts }
      embeddedDatasources { name hasExtracts }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// CustomSQLQuery pages through custom SQL tables and the workbooks reading them.
const CustomSQLQuery = `query CustomSQL($first: Int!, $after: String) {
  customSQLTablesConnection(first: $first, after: $after, orderBy: {field: ID, direction: ASC}) {
    nodes {
      id
      query
      connectionType
      database { name connectionType }
      downstreamWorkbooks { luid }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// SheetsQuery pages through every sheet of the site with the columns it
// uses, as Tableau's lineage gives them through calculated fields and
// published data sources; a sheet's workbook is null when the user may not
// see it. Tables come by ID, each read once (TablesQuery). Pages after the
// first are asked for by offset, a few at once (pageByOffset).
const SheetsQuery = `query Sheets($first: Int!, $after: String, $offset: Int) {
  sheetsConnection(first: $first, after: $after, offset: $offset, orderBy: {field: ID, direction: ASC}) {
    nodes {
      id
      workbook { luid }
      upstreamColumns { name table { __typename id } }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// SheetFieldsQuery reads the fields of the sheets whose upstreamColumns
// Tableau left empty, to follow them field by field.
const SheetFieldsQuery = `query SheetFields($first: Int!, $after: String, $ids: [ID]) {
  sheetsConnection(first: $first, after: $after, filter: {idWithin: $ids}, orderBy: {field: ID, direction: ASC}) {
    nodes {
      id
      workbook { luid }
      datasourceFields { id name datasource { id } }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// FieldsQuery reads fields by ID, each with its lineage one step up: the
// columns it reads, the fields it is computed from, and for a field of a
// published data source, that source's field.
const FieldsQuery = `query Fields($first: Int!, $after: String, $ids: [ID]) {
  fieldsConnection(first: $first, after: $after, filter: {idWithin: $ids}, orderBy: {field: ID, direction: ASC}) {
    nodes {
      __typename
      id
      name
      datasource { id }
      upstreamColumns { name table { __typename id } }
      upstreamFields { id name datasource { id } }
      ... on DatasourceField { remoteField { id name datasource { id } } }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// TablesQuery reads the database tables columns belong to, by ID.
const TablesQuery = `query Tables($first: Int!, $after: String, $ids: [ID]) {
  databaseTablesConnection(first: $first, after: $after, filter: {idWithin: $ids}, orderBy: {field: ID, direction: ASC}) {
    nodes { id name schema fullName connectionType database { name connectionType } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// CustomSQLByIDQuery reads the custom SQL tables columns belong to, by ID.
const CustomSQLByIDQuery = `query CustomSQLByID($first: Int!, $after: String, $ids: [ID]) {
  customSQLTablesConnection(first: $first, after: $after, filter: {idWithin: $ids}, orderBy: {field: ID, direction: ASC}) {
    nodes { id query connectionType database { name connectionType } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// Queries lists every query the client can send, for validation.
var Queries = map[string]string{"Workbooks": WorkbooksQuery, "CustomSQL": CustomSQLQuery, "Sheets": SheetsQuery,
	"SheetFields": SheetFieldsQuery, "Fields": FieldsQuery, "Tables": TablesQuery, "CustomSQLByID": CustomSQLByIDQuery}
